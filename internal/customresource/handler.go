// Package customresource is the CloudFormation door of ensure-repo: it reads a
// custom resource request, hands one validated repository request to the
// reconcile core, and answers CloudFormation exactly once.
//
// The wrapper is ours rather than aws-lambda-go's cfn.LambdaWrap, whose types
// it uses: LambdaWrap sends nothing when the function runs out of time (the
// stack then waits an hour for a response), does not keep the body within
// CloudFormation's 4096-byte limit, and makes a single PUT whose failure is
// dropped. Here the work runs under a deadline short of the function's, a
// panic becomes a FAILED answer, the Reason is cut to fit, and the PUT is
// retried a bounded number of times.
package customresource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/request"
)

// Core is the part of the reconcile core this door calls.
type Core interface {
	Ensure(ctx context.Context, in reconcile.EnsureInput) (reconcile.Result, error)
	Delete(ctx context.Context, in reconcile.DeleteInput) (reconcile.DeleteResult, error)
	RemoveParameter(ctx context.Context, name, owner string) (bool, error)
}

// DefaultMargin is how long before the function's deadline the work is
// stopped so that CloudFormation can still be answered: a grace second for
// the work to return the error that names the call it was in, and two PUT
// attempts at DefaultHTTPTimeout with a backoff between them.
const DefaultMargin = 10 * time.Second

// DefaultHTTPTimeout bounds one PUT to the ResponseURL. A response is at most
// 4096 bytes, so an attempt that takes longer is stuck, not slow.
const DefaultHTTPTimeout = 4 * time.Second

// DefaultAttempts is how many times a response is PUT at most.
const DefaultAttempts = 4

// maxGrace bounds how long the door waits, once the work's deadline has
// passed, for the work to return the error that names the call in progress.
const maxGrace = time.Second

// Options configures a Handler. The zero value of every field has a default.
type Options struct {
	// Scope is what the resources may name: repositories under its
	// prefixes and parameters under its parameter prefix, where parameters
	// go when a request names none. The prefix must already be valid
	// (frontdoor.ConfigFromEnv checks it).
	Scope request.Scope

	// Logger receives one JSON line per step; nil discards.
	Logger *slog.Logger

	// HTTPClient makes the PUT to the ResponseURL; nil uses a client with
	// DefaultHTTPTimeout. Its Timeout bounds each attempt.
	HTTPClient *http.Client

	// Margin is the time kept back from the function's deadline to answer;
	// default DefaultMargin. A function with less than three margins left
	// keeps a third of its remaining time instead, so short deadlines still
	// leave time for the work.
	Margin time.Duration

	// Attempts bounds the PUTs of one response; default DefaultAttempts.
	Attempts int

	// Backoff is the first delay between PUT attempts, doubled after each
	// (with jitter); default 200 ms.
	Backoff time.Duration

	// LogStream is appended to FAILED reasons so that a reader of the stack's
	// events finds the logs; default lambdacontext.LogStreamName.
	LogStream string
}

// Handler answers CloudFormation custom resource requests for
// Custom::EcrRepository resources.
//
// Each resource's ownership is recorded as its Owner: the stack id, a slash
// and the logical resource id, which together name one resource of one stack
// for its whole life (a stack id carries a unique suffix, so a stack deleted
// and created again under the same name is a different owner). The core
// deletes only repositories and parameters that carry this owner.
type Handler struct {
	core      Core
	scope     request.Scope
	log       *slog.Logger
	sender    sender
	margin    time.Duration
	logStream string
}

// New returns a Handler that reconciles through core.
func New(core Core, opts Options) *Handler {
	h := &Handler{
		core:      core,
		scope:     opts.Scope,
		log:       opts.Logger,
		margin:    opts.Margin,
		logStream: opts.LogStream,
		sender: sender{
			client:   opts.HTTPClient,
			attempts: opts.Attempts,
			backoff:  opts.Backoff,
		},
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.margin <= 0 {
		h.margin = DefaultMargin
	}
	if h.logStream == "" {
		h.logStream = lambdacontext.LogStreamName
	}
	if h.sender.client == nil {
		h.sender.client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if h.sender.attempts <= 0 {
		h.sender.attempts = DefaultAttempts
	}
	if h.sender.backoff <= 0 {
		h.sender.backoff = 200 * time.Millisecond
	}
	return h
}

// Handle does what ev asks and answers CloudFormation at ev.ResponseURL.
//
// Create and Update ensure the repository the properties describe and
// answer with its name as the physical id and Arn, RepositoryUri, RegistryId
// and UriParameterName as Data. A failed Create answers with MarkerID's
// physical id, or with the repository's name when the request created the
// repository before it failed (so that the rollback's Delete removes it); a
// failed Update answers with the old physical id. Delete removes what this
// resource owns of the repository its physical id names; the marker, or any
// id that cannot name a repository, is answered SUCCESS without a call.
// Properties a Delete cannot read are read as safely as possible: nothing
// emptied (EmptyOnDelete false) and only this resource's parameter removed.
//
// The function may touch only what the Scope covers, so Create and Update
// refuse a repository name outside its prefixes or a UriParameterName
// outside its parameter prefix before any call, with a reason that names the
// property and the rule. Delete never fails for that reason: a repository
// outside the Scope is answered SUCCESS without a call and kept, and a
// parameter outside it is kept.
//
// The work stops at the function's deadline less the margin, and a panic in
// it is recovered; either way CloudFormation is told FAILED, with a reason
// that says "timed out" and the step in progress, or the panic.
//
// It returns the response CloudFormation was sent (which never carries the
// ResponseURL) and an error only when that response could not be delivered,
// so that Lambda's retry of the asynchronous invocation tries again; a
// request that failed but was answered FAILED returns no error, since
// CloudFormation has its answer.
func (h *Handler) Handle(ctx context.Context, ev cfn.Event) (*cfn.Response, error) {
	return h.handle(ctx, incoming{ev: ev})
}

// HandleJSON decodes a custom resource request and handles it like Handle.
// A request whose parts cannot be decoded is still answered as long as its
// ResponseURL can be read: FAILED, except a Delete, which goes ahead with the
// safest reading of unreadable properties (see Handle).
func (h *Handler) HandleJSON(ctx context.Context, raw json.RawMessage) (*cfn.Response, error) {
	in, err := decode(raw)
	if err != nil {
		return nil, err
	}
	return h.handle(ctx, in)
}

// outcome is what the work decided: the physical id to answer with, the Data
// of a success, or the error of a failure.
type outcome struct {
	physicalID string
	data       map[string]any
	err        error
}

// progress records the step the work is in, for the reason of a timeout.
type progress struct{ step atomic.Value }

// set records step as the one in progress.
func (p *progress) set(step string) { p.step.Store(step) }

// get returns the step in progress, or "" before the first.
func (p *progress) get() string {
	s, _ := p.step.Load().(string)
	return s
}

// handle runs the work in its own goroutine under the work deadline and
// answers CloudFormation once with whatever it produced, a recovered panic or
// a timeout. Work that ignores its context may still run after handle
// returns; its late outcome is dropped.
func (h *Handler) handle(ctx context.Context, in incoming) (*cfn.Response, error) {
	ev := in.ev
	log := h.log.With(
		"stack", ev.StackID,
		"logical_id", ev.LogicalResourceID,
		"request_type", string(ev.RequestType),
	)
	log.InfoContext(ctx, "custom resource request", "physical_id", ev.PhysicalResourceID)

	deadline, hasDeadline := ctx.Deadline()
	margin := h.marginFor(deadline, hasDeadline)
	workCtx, cancel := workContext(ctx, deadline, hasDeadline, margin)
	defer cancel()

	// The work never sees the ResponseURL, so nothing it logs or returns can
	// leak it.
	work := in
	work.ev.ResponseURL = ""
	p := &progress{}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				log.ErrorContext(ctx, "panic", "panic", fmt.Sprint(v),
					"trace", string(debug.Stack()))
				o := fallback(ev)
				o.err = fmt.Errorf("internal error%s: %v", while(p.get()), v)
				done <- o
			}
		}()
		done <- h.do(workCtx, work, p, log)
	}()

	var out outcome
	select {
	case out = <-done:
	case <-workCtx.Done():
		// Most calls return promptly once their context ends, and their error
		// names the AWS operation that was running; wait a moment for it.
		t := time.NewTimer(min(margin/4, maxGrace))
		select {
		case out = <-done:
		case <-t.C:
			out = fallback(ev)
			out.err = workCtx.Err()
		}
		t.Stop()
	}
	if out.err != nil && errors.Is(workCtx.Err(), context.DeadlineExceeded) {
		out.err = &timeoutError{step: p.get(), err: out.err}
	}

	resp := h.response(ev, out)
	if out.err != nil {
		log.ErrorContext(ctx, "request failed", "physical_id", resp.PhysicalResourceID,
			"error", out.err)
	}
	sendCtx, cancelSend := sendContext(ctx, deadline, hasDeadline, margin)
	defer cancelSend()
	attempts, status, err := h.sender.put(sendCtx, ev.ResponseURL, resp, log)
	if err != nil {
		log.ErrorContext(ctx, "answering cloudformation", "status", string(resp.Status),
			"attempts", attempts, "http_status", status, "error", err)
		return resp, fmt.Errorf("answering CloudFormation for %q: %w", ev.LogicalResourceID,
			err)
	}
	log.InfoContext(ctx, "answered cloudformation", "status", string(resp.Status),
		"physical_id", resp.PhysicalResourceID, "attempts", attempts, "http_status", status)
	return resp, nil
}

// marginFor returns the time kept back from the function's deadline to
// answer: the configured margin, or a third of the remaining time when that is
// shorter.
func (h *Handler) marginFor(deadline time.Time, ok bool) time.Duration {
	if !ok {
		return h.margin
	}
	return max(min(h.margin, time.Until(deadline)/3), 0)
}

// workContext returns the context the work runs under: it ends margin before
// the function's deadline. Without a deadline (a local call) the work has none
// of its own either.
func workContext(ctx context.Context, deadline time.Time, ok bool,
	margin time.Duration) (context.Context, context.CancelFunc) {
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// sendContext returns the context of the PUT: it ends a little before the
// function's deadline, so that the outcome is logged before Lambda stops the
// process.
func sendContext(ctx context.Context, deadline time.Time, ok bool,
	margin time.Duration) (context.Context, context.CancelFunc) {
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline.Add(-min(margin/10, 200*time.Millisecond)))
}

// while returns " while <step>" or "" when no step has started.
func while(step string) string {
	if step == "" {
		return ""
	}
	return " while " + step
}

// timeoutError is the failure of work that ran out of time.
type timeoutError struct {
	step string
	err  error
}

// Error says that the work timed out, in which step, and how the step ended.
func (e *timeoutError) Error() string {
	return "timed out" + while(e.step) + ": " + e.err.Error()
}

// Unwrap returns the error the step ended with.
func (e *timeoutError) Unwrap() error { return e.err }
