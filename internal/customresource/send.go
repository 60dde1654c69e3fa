package customresource

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
)

// sender PUTs responses to CloudFormation's pre-signed ResponseURL.
//
// The retry loop is written here because nothing ready-made fits: the SDK's
// retryer drives signed API operations, not a bare PUT to a URL that is
// already signed, and a general HTTP retry library would be a dependency for
// ten lines whose rules (which statuses, within which deadline, never
// logging the URL) are this door's own.
//
// Retried, up to attempts in all and within ctx's deadline: network errors,
// timeouts, 5xx, 408 and 429, and 403. A 403 from a pre-signed URL rarely
// heals (an expired URL stays expired), but S3 also answers 403 for a clock
// skew that the next attempt may not have, and the attempt bound caps what an
// expired URL costs. Other 4xx mean the request itself is wrong and are not
// retried.
type sender struct {
	client   *http.Client
	attempts int
	backoff  time.Duration
}

// put sends r to rawURL and returns how many attempts it made and the last
// HTTP status (0 when none was received). Errors never contain the URL.
func (s sender) put(ctx context.Context, rawURL string, r *cfn.Response,
	log *slog.Logger) (attempts, status int, err error) {
	sent, body, err := encode(*r)
	if err != nil {
		return 0, 0, err
	}
	*r = sent

	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return 0, 0, errors.New("reading ResponseURL: not an http(s) URL")
	}
	delay := s.backoff
	for attempts = 1; ; attempts++ {
		var code string
		status, code, err = s.once(ctx, rawURL, body)
		if err == nil && status >= 200 && status < 300 {
			return attempts, status, nil
		}
		if err == nil {
			err = &statusError{status: status, code: code}
		} else {
			err = redact(err, u, rawURL)
		}
		if !retryable(status, err) || attempts >= s.attempts {
			return attempts, status, fmt.Errorf("putting response (attempt %d of %d): %w",
				attempts, s.attempts, err)
		}
		// Jitter keeps retries of many resources from arriving together.
		wait := time.Duration(rand.Int64N(int64(delay))) + delay/2
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			return attempts, status, fmt.Errorf("putting response (attempt %d of %d, no time"+
				" left): %w", attempts, s.attempts, err)
		}
		log.WarnContext(ctx, "retrying response", "attempt", attempts, "http_status", status,
			"error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return attempts, status, fmt.Errorf("putting response (attempt %d of %d): %w",
				attempts, s.attempts, ctx.Err())
		case <-t.C:
		}
		delay *= 2
	}
}

// once makes one PUT and returns its status and, for an error response, the
// S3 error code from its body.
func (s sender) once(ctx context.Context, rawURL string, body []byte) (int, string, error) {
	// A pre-signed S3 URL signs the host only; a Content-Type the signature
	// did not cover would be refused, so none is sent. The length is known.
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.ContentLength = int64(len(body))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	// Only the error code is kept: S3's error bodies may echo the request,
	// and with it parts of the URL.
	var e struct {
		Code string `xml:"Code"`
	}
	if resp.StatusCode >= 300 {
		_ = xml.NewDecoder(io.LimitReader(resp.Body, 8<<10)).Decode(&e)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, e.Code, nil
}

// retryable reports whether another attempt may succeed after an attempt
// that ended with status (0 when none arrived) and err.
func retryable(status int, err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	switch {
	case status == 0:
		return true
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests,
		status == http.StatusForbidden:
		return true
	default:
		return false
	}
}

// statusError is an answer other than 2xx from the ResponseURL.
type statusError struct {
	status int
	code   string
}

// Error gives the status and S3's error code.
func (e *statusError) Error() string {
	if e.code == "" {
		return fmt.Sprintf("status %d", e.status)
	}
	return fmt.Sprintf("status %d (%s)", e.status, e.code)
}

// redact returns err without the URL: the ResponseURL carries a signature
// that lets anyone answer for this resource, and *url.Error, which
// http.Client returns, quotes the URL it failed on.
func redact(err error, u *url.URL, raw string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		safe := u.Scheme + "://" + u.Host + "/[redacted]"
		err = &url.Error{Op: ue.Op, URL: safe, Err: redact(ue.Err, u, raw)}
	}
	// Whatever else quotes the URL loses its chain rather than leak it.
	msg := err.Error()
	clean := msg
	for _, secret := range []string{raw, u.String(), u.RawQuery, u.Query().Get("X-Amz-Signature"),
		u.Query().Get("Signature")} {
		if secret != "" {
			clean = strings.ReplaceAll(clean, secret, "[redacted]")
		}
	}
	if clean != msg {
		return errors.New(clean)
	}
	return err
}
