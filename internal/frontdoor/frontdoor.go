// Package frontdoor is ensure-repo's Lambda handler: it tells a CloudFormation
// custom resource request from a self-service EventBridge event and passes
// each to its door, and it reads the function's configuration from the
// environment.
package frontdoor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ecr-stack/ecr-stack/internal/customresource"
	"github.com/ecr-stack/ecr-stack/internal/selfservice"
)

// Core is the reconcile core as both doors use it; *reconcile.Core
// satisfies it.
type Core interface {
	customresource.Core
	selfservice.Core
}

// Handler is the function lambda.Start takes.
type Handler = func(ctx context.Context, raw json.RawMessage) (any, error)

// NewHandler returns ensure-repo's handler. An event with RequestType and
// ResponseURL is a custom resource request: it is answered through
// ResponseURL with client (nil: a client with
// customresource.DefaultHTTPTimeout), and the handler returns what
// CloudFormation was told. An event with a detail-type is a self-service
// request: the handler returns its selfservice.Result. Anything else, a
// payload that is not a JSON object included, is an error that says what was
// expected. Both doors hold their requests to the same cfg.Scope.
func NewHandler(core Core, cfg Config, log *slog.Logger, client *http.Client) Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cr := customresource.New(core, customresource.Options{
		Scope:      cfg.Scope(),
		Logger:     log,
		HTTPClient: client,
	})
	ss := selfservice.New(core, selfservice.Config{
		Scope:             cfg.Scope(),
		AllowOpenPolicies: cfg.AllowOpenPolicies,
		Source:            cfg.RequestSource,
		Account:           cfg.AccountID,
	}, log)

	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
			return nil, errors.New("decoding event: the event must be a JSON object")
		}
		_, hasType := fields["RequestType"]
		_, hasURL := fields["ResponseURL"]
		_, hasDetailType := fields["detail-type"]
		switch {
		case hasType && hasURL:
			return cr.HandleJSON(ctx, raw)
		case hasDetailType:
			var ev events.EventBridgeEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("decoding EventBridge event: %w", err)
			}
			res, err := ss.Handle(ctx, ev)
			if err != nil {
				return nil, err
			}
			return res, nil
		default:
			log.WarnContext(ctx, "unrecognised event", "keys", slices.Sorted(maps.Keys(fields)))
			return nil, fmt.Errorf("unrecognised event: want a CloudFormation custom resource"+
				" request (RequestType and ResponseURL) or an EventBridge event with"+
				" detail-type %q", selfservice.DetailType)
		}
	}
}
