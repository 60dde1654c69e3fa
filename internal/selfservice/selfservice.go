// Package selfservice is the EventBridge door of ensure-repo: a team puts an
// "ECR Repository Request" event on the bus, and this door checks it against
// the stack's policy and hands it to the reconcile core.
//
// Self-service never deletes anything, and never takes over a repository that
// another owner, such as a CloudFormation stack, created: the core refuses it
// before any write. Its result goes back to Lambda, whose destinations
// forward it; a refused or failed request is an error, so that Lambda's
// retries and the failure destination act. Delivering the same request again,
// or many times at once, is harmless: the core's Ensure is idempotent.
package selfservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/request"
)

// DetailType is the detail-type of a repository request.
const DetailType = "ECR Repository Request"

// Owner is the owner recorded on what self-service creates.
const Owner = "self-service"

// Core is the part of the reconcile core this door calls.
type Core interface {
	Ensure(ctx context.Context, in reconcile.EnsureInput) (reconcile.Result, error)
}

// Config is the policy self-service requests are held to.
type Config struct {
	// Scope limits repository names to its prefixes and parameters to its
	// parameter prefix, under which the default parameter goes.
	Scope request.Scope
	// AllowOpenPolicies lets a request set a repository policy that grants
	// "*" or principals of another account.
	AllowOpenPolicies bool
	// Account is the 12-digit account the repositories live in, whose
	// principals a repository policy may grant. Empty: the account of the
	// invoked function's ARN, or the event's when that is unknown. Set it
	// where that ARN does not name the real account: the Lambda Runtime
	// Interface Emulator reports 012345678912.
	Account string
	// Source, when set, is the only event source accepted.
	Source string
}

// Result is what a request achieved, shaped for Lambda destinations.
type Result struct {
	RepositoryName string `json:"repositoryName"`
	RepositoryURI  string `json:"repositoryUri"`
	RepositoryARN  string `json:"repositoryArn"`
	RegistryID     string `json:"registryId"`
	ParameterName  string `json:"parameterName"`
	// Created reports that this request created the repository; Adopted is
	// its opposite: the repository existed before the request, whether an
	// earlier request or someone else made it.
	Created bool `json:"created"`
	Adopted bool `json:"adopted"`
	// Changes lists what this request wrote; empty when everything matched.
	Changes []string `json:"changes"`
}

// Handler handles self-service repository requests.
type Handler struct {
	core Core
	cfg  Config
	log  *slog.Logger
}

// New returns a Handler that ensures repositories through core under cfg's
// policy and logs to log (nil discards).
func New(core Core, cfg Config, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{core: core, cfg: cfg, log: log}
}

// Handle checks the request ev carries and ensures its repository. It gives
// up a moment before ctx's deadline, returning an error that names the call
// in progress, so that Lambda retries the request rather than time it out.
//
// Beyond request.Parse's rules, a request is refused when it leaves the
// configured request.Scope (a repository name outside the allowed prefixes,
// a parameter outside the parameter prefix), when its repository policy
// grants "*" or a principal of another account (unless open policies are
// allowed), and when it sets EmptyOnDelete, which would promise a deletion
// that self-service never makes. The account is Config.Account, or else the
// one the function runs in, read from the invoked function's ARN, or, when
// that is unknown, the event's account. A repository that another owner
// created, or that a stack adopted, is refused by the core with
// reconcile.ErrOwnedByOther.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) (Result, error) {
	log := h.log.With("source", ev.Source, "event_id", ev.ID)
	if ev.DetailType != DetailType {
		return Result{}, fmt.Errorf("reading event %q: detail-type %q is not %q", ev.ID,
			ev.DetailType, DetailType)
	}
	if h.cfg.Source != "" && ev.Source != h.cfg.Source {
		return Result{}, fmt.Errorf("reading event %q: source %q is not %q", ev.ID, ev.Source,
			h.cfg.Source)
	}

	want, param, err := h.check(ctx, ev)
	if err != nil {
		log.WarnContext(ctx, "request refused", "error", err)
		return Result{}, fmt.Errorf("refusing repository request %q: %w", ev.ID, err)
	}
	log = log.With("repository", want.Name, "parameter", param)
	log.InfoContext(ctx, "self-service request")

	work, cancel := beforeDeadline(ctx)
	defer cancel()
	res, err := h.core.Ensure(work, reconcile.EnsureInput{
		Want:          want,
		Owner:         Owner,
		ParameterName: param,
		RespectOwners: true,
	})
	if err != nil {
		if errors.Is(work.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out ensuring repository %q: %w", want.Name, err)
		}
		log.ErrorContext(ctx, "request failed", "error", err)
		return Result{}, err
	}

	out := Result{
		RepositoryName: res.Repository,
		RepositoryURI:  res.URI,
		RepositoryARN:  res.ARN,
		RegistryID:     res.RegistryID,
		ParameterName:  res.ParameterName,
		Created:        res.CreatedNow,
		Adopted:        !res.CreatedNow,
		Changes:        res.Changes,
	}
	if out.RepositoryName == "" {
		out.RepositoryName = want.Name
	}
	if out.ParameterName == "" {
		out.ParameterName = param
	}
	if out.Changes == nil {
		out.Changes = []string{}
	}
	return out, nil
}

// check parses the detail and applies the policy. It returns the request,
// the parameter name, and every problem found, each a *request.FieldError.
func (h *Handler) check(ctx context.Context,
	ev events.EventBridgeEvent) (request.Repository, string, error) {
	var props map[string]any
	if err := json.Unmarshal(ev.Detail, &props); err != nil || props == nil {
		return request.Repository{}, "", &request.FieldError{Field: "detail",
			Rule: "must be a JSON object of repository properties"}
	}
	want, err := request.Parse(props)
	if err != nil {
		return request.Repository{}, "", err
	}

	problems := []error{h.cfg.Scope.Check(want)}
	if want.RepositoryPolicy != "" && !h.cfg.AllowOpenPolicies {
		if open := request.OpenGrants(want.RepositoryPolicy, h.account(ctx, ev)); len(open) > 0 {
			problems = append(problems, &request.FieldError{Field: "RepositoryPolicyText",
				Rule: "must not grant access outside the account: " + strings.Join(open, "; ")})
		}
	}
	if want.EmptyOnDelete {
		problems = append(problems, &request.FieldError{Field: "EmptyOnDelete",
			Rule: "must not be set: self-service requests never delete"})
	}

	// Parse validated a named parameter; the default is checked here.
	param := h.cfg.Scope.ParameterName(want)
	if err := request.ValidateParameterName(param); err != nil && want.UriParameterName == "" {
		problems = append(problems, err)
	}
	return want, param, errors.Join(problems...)
}

// margin is how long before the function's deadline a request gives up, so
// that it returns an error naming the call in progress instead of being cut
// off by Lambda; a function with less than ten margins left keeps a tenth.
const margin = time.Second

// beforeDeadline returns ctx ending margin before its deadline, if it has one.
func beforeDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline.Add(-min(margin, time.Until(deadline)/10)))
}

// account returns the account the repository lives in: the configured one,
// else the function's own, from the invoked function's ARN, or the event's
// when that is unknown. With none, it returns a name no account has, so that
// every account principal counts as another account's: the check fails
// closed.
func (h *Handler) account(ctx context.Context, ev events.EventBridgeEvent) string {
	if h.cfg.Account != "" {
		return h.cfg.Account
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		if a, err := arn.Parse(lc.InvokedFunctionArn); err == nil && a.AccountID != "" {
			return a.AccountID
		}
	}
	if ev.AccountID != "" {
		return ev.AccountID
	}
	return "unknown"
}
