package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ecr-stack/ecr-stack/internal/alert"
	"github.com/ecr-stack/ecr-stack/internal/findings"
	"github.com/ecr-stack/ecr-stack/internal/notify"
	"github.com/ecr-stack/ecr-stack/internal/policy"
	"github.com/ecr-stack/ecr-stack/internal/scan"
)

// deadlineMargin is kept free before the function's deadline, so that calls
// still retrying when it comes end in an error the handler returns, rather
// than in a timeout that says nothing about the cause.
const deadlineMargin = 500 * time.Millisecond

// Handler handles scan events. Its zero value is not usable; see New.
type Handler struct {
	cfg       Config
	ecr       findings.API
	publisher *notify.Publisher
	log       *slog.Logger
	now       func() time.Time
}

// New returns a Handler that reads findings through ecr and publishes through
// sns to cfg.TopicARN, logging to log.
func New(cfg Config, ecr findings.API, sns notify.API, log *slog.Logger) *Handler {
	return &Handler{
		cfg:       cfg,
		ecr:       ecr,
		publisher: notify.New(sns, cfg.TopicARN),
		log:       log,
		now:       time.Now,
	}
}

// Handle turns one EventBridge event into at most one alert. Events that are
// not scan results are logged and acknowledged. A scan the policy does not
// alert on costs no AWS call when the event's counts decide it. An image or
// scan that no longer exists, or findings that ECR does not list yet while
// the event counts some, give an alert from the event's counts with a note.
// An event that cannot be read, or ECR or SNS failing after the SDK's
// retries, returns the error, so that Lambda's retries and failure
// destinations act.
func (h *Handler) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	log := h.logger(ctx).With("event_id", ev.ID)
	log.Debug("received event", "detail_type", ev.DetailType, "source", ev.Source,
		"detail", ev.Detail)
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-deadlineMargin))
		defer cancel()
	}

	s, err := scan.FromEvent(ev)
	if errors.Is(err, scan.ErrIgnored) {
		log.Info("event ignored", "detail_type", ev.DetailType, "source", ev.Source)
		return nil
	}
	if err != nil {
		log.Error("unreadable event", "detail_type", ev.DetailType, "source", ev.Source,
			"error", err)
		return err
	}
	log = log.With("repository", s.Repository, "digest", s.Digest)

	now := h.now()
	d := h.cfg.Policy.Decide(s, now)
	if !d.Notify && !d.NeedFindings {
		log.Info("no alert", "reason", d.Reason, "severity", worst(s))
		return nil
	}

	in, ok, err := h.prepare(ctx, log, s, d, now)
	if err != nil {
		log.Error("reading findings", "error", err)
		return err
	}
	if !ok {
		return nil
	}

	msg := alert.Render(in.scan, in.findings, in.opts)
	severity := msg.Attributes[alert.AttrSeverity].StringValue
	id, err := h.publisher.Publish(ctx, msg)
	if err != nil {
		log.Error("publishing alert", "severity", severity, "topic", h.cfg.TopicARN, "error", err)
		return fmt.Errorf("alerting on image %q: %w", s.Repository+"@"+s.Digest, err)
	}
	log.Info("alert published", "severity", severity, "topic", h.cfg.TopicARN,
		"message_id", id, "bytes", msg.Size())
	return nil
}

// input is what an alert is rendered from.
type input struct {
	scan     scan.Scan
	findings []scan.Finding
	opts     alert.Options
}

// prepare gathers what the alert says: the findings from ECR when the message
// lists them or the decision needs them, and the reason a scan failed. It
// reports false when the findings show that no alert is due.
func (h *Handler) prepare(ctx context.Context, log *slog.Logger, s scan.Scan,
	d policy.Decision, now time.Time) (input, bool, error) {
	in := input{scan: s, opts: alert.Options{MaxFindings: h.cfg.Policy.MaxFindings}}
	if !needsFindings(s, d) {
		return in, true, nil
	}

	reader := findings.New(h.ecr, findings.Options{
		MaxFindings: h.cfg.Policy.MaxFindings,
		MaxPages:    h.cfg.MaxPages,
		Suppressed:  func(f *scan.Finding) bool { return h.cfg.Policy.Suppressed(f.ID, now) },
	})
	img := findings.Image{RegistryID: s.RegistryID, Repository: s.Repository, Digest: s.Digest}
	res, err := reader.Read(ctx, img)
	if errors.Is(err, findings.ErrNotFound) {
		log.Warn("image scan gone", "error", err)
		in.opts.Notes = append(in.opts.Notes, "ECR no longer has this image or its scan, "+
			"so the findings cannot be listed; the counts are from the event.")
		return in, true, nil
	}
	if err != nil {
		return input{}, false, err
	}
	log.Info("findings read", "status", res.Status, "pages", res.Pages, "listed", res.Listed,
		"suppressed", res.Suppressed)

	if res.Failed() || s.Failed || s.Unsupported {
		return failed(in, res), true, nil
	}
	if res.Listed == 0 && res.Suppressed == 0 && s.Counts.Total() > 0 {
		// Inspector publishes its scan event before ECR lists the findings.
		in.opts.Notes = append(in.opts.Notes, fmt.Sprintf("ECR lists no findings yet "+
			"(scan status %s); the counts are from the event.", orUnknown(res.Status)))
		return in, true, nil
	}

	listed := s
	listed.Counts = res.Counts
	out := h.cfg.Policy.Apply(listed, res.Findings, now)
	if !out.Notify {
		log.Info("no alert", "reason", out.Reason, "severity", worst(out.Scan))
		return input{}, false, nil
	}
	in.scan, in.findings = out.Scan, out.Findings
	in.opts.Suppressed = res.Suppressed + out.Suppressed
	in.opts.SuppressedIDs = res.SuppressedIDs
	for _, id := range out.SuppressedIDs {
		if !slices.Contains(in.opts.SuppressedIDs, id) {
			in.opts.SuppressedIDs = append(in.opts.SuppressedIDs, id)
		}
	}
	if res.Truncated {
		in.opts.Notes = append(in.opts.Notes, res.Note)
	}
	return in, true, nil
}

// failed fills in a failed or unsupported scan: the reason ECR gives, and
// the status ECR reports when the event did not say the scan failed.
func failed(in input, res findings.Result) input {
	switch {
	case res.Failed():
		in.opts.Reason = res.Description
		if !in.scan.Failed && !in.scan.Unsupported {
			in.scan.Status = res.Status
			in.scan.Failed = res.Status == scan.StatusFailed
			in.scan.Unsupported = res.Status == scan.StatusUnsupported
		}
	case res.Status != "":
		in.opts.Notes = append(in.opts.Notes, fmt.Sprintf("ECR now reports the scan "+
			"status as %s: %s", res.Status, res.Description))
	}
	return in
}

// needsFindings reports whether the alert, or the decision, needs the
// findings listed: not for an Inspector finding, which carries its own, nor
// for a scan whose event reports no findings at all.
func needsFindings(s scan.Scan, d policy.Decision) bool {
	if s.Finding != nil {
		return false
	}
	return d.NeedFindings || s.Failed || s.Unsupported ||
		!s.Counts.Reported() || s.Counts.Total() > 0
}

// worst names the worst severity a scan reports, for logs.
func worst(s scan.Scan) string {
	if s.Finding != nil {
		return s.Finding.Severity.String()
	}
	if sev, ok := s.Counts.Worst(); ok {
		return sev.String()
	}
	return "NONE"
}

// orUnknown returns s, or "unknown" when it is empty.
func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return "unknown"
	}
	return s
}

// logger returns the handler's logger with the invocation's request id, so
// every line of one invocation can be found together. The key is requestId,
// the one Lambda's own log handler (lambdacontext.NewLogHandler) writes; the
// handler logs without the context, so that handler does not add it a second
// time.
func (h *Handler) logger(ctx context.Context) *slog.Logger {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return h.log.With("requestId", lc.AwsRequestID)
	}
	return h.log
}
