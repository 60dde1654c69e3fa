package customresource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/cfn"
)

// MaxResponseBytes is the largest response body CloudFormation accepts.
const MaxResponseBytes = 4096

// minReasonWithStream is the least of a reason kept when the log stream's
// name is appended; below it, the reason's own text matters more.
const minReasonWithStream = 512

// response returns the answer to ev for out.
func (h *Handler) response(ev cfn.Event, out outcome) *cfn.Response {
	r := &cfn.Response{
		Status:             cfn.StatusSuccess,
		RequestID:          ev.RequestID,
		LogicalResourceID:  ev.LogicalResourceID,
		StackID:            ev.StackID,
		PhysicalResourceID: out.physicalID,
		Data:               out.data,
	}
	if out.err != nil {
		r.Status = cfn.StatusFailed
		r.Data = nil
		r.Reason = strings.ReplaceAll(out.err.Error(), "\n", "; ")
		if h.logStream != "" {
			r.Reason = withStream(r, h.logStream)
		}
	}
	return r
}

// withStream returns r's reason with the log stream's name appended, cut so
// that the whole response still fits, or the reason alone when appending
// would leave less than minReasonWithStream of it.
func withStream(r *cfn.Response, stream string) string {
	suffix := " (log stream " + stream + ")"
	c := *r
	c.Reason = ""
	empty, err := marshal(&c)
	if err != nil {
		return r.Reason
	}
	room := MaxResponseBytes - len(empty) - jsonLen(suffix)
	if jsonLen(r.Reason) <= room {
		return r.Reason + suffix
	}
	if room < minReasonWithStream {
		return r.Reason
	}
	// encode makes the final cut, should escaping need one.
	return truncate(r.Reason, room) + suffix
}

// jsonLen returns the length of s as a JSON string's contents.
func jsonLen(s string) int {
	b, _ := marshal(s)
	return len(b) - 2
}

// marshal encodes v as JSON without escaping <, > and &, which keeps error
// text readable and short.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// encode returns r as it is sent and its body: at most MaxResponseBytes,
// with the Reason cut in the middle when it is too long (see truncate). The
// Data of a response too large even without a reason is dropped; a response
// that does not fit then (its echoed ids alone exceed the limit, which
// CloudFormation never sends) is an error.
func encode(r cfn.Response) (cfn.Response, []byte, error) {
	body, err := fit(&r)
	if err == nil || r.Data == nil {
		return r, body, err
	}
	r.Data = nil
	body, err = fit(&r)
	return r, body, err
}

// fit cuts r's Reason until r encodes within MaxResponseBytes.
func fit(r *cfn.Response) ([]byte, error) {
	reason := r.Reason
	for limit := len(reason); ; {
		r.Reason = truncate(reason, limit)
		body, err := marshal(r)
		if err != nil {
			return nil, fmt.Errorf("encoding response: %w", err)
		}
		over := len(body) - MaxResponseBytes
		if over <= 0 {
			return body, nil
		}
		if limit == 0 {
			r.Reason = reason
			return nil, fmt.Errorf("encoding response: %d bytes without a reason, over the"+
				" limit of %d", len(body), MaxResponseBytes)
		}
		// Escaping makes the encoded reason longer than the reason; cut in
		// proportion, and by at least a byte so that the loop ends.
		encoded := jsonLen(r.Reason)
		limit = min(len(r.Reason)*max(encoded-over, 0)/max(encoded, 1), len(r.Reason)-1)
		limit = max(limit, 0)
	}
}

// truncate returns s cut to at most n bytes by removing its middle, which it
// replaces with a marker saying how much was cut. The head says what failed
// and the tail holds the root cause at the end of a wrapped error chain, so
// the head keeps a third and the tail the rest. Cuts fall on UTF-8
// boundaries.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	// The marker's length depends on the count it reports; a count with as
	// many digits as len(s) is never shorter than the real one.
	width := len(fmt.Sprintf(" [... %d bytes cut ...] ", len(s)))
	keep := n - width
	if keep < 8 {
		return tail(s, n)
	}
	head := s[:runeStart(s, keep/3)]
	rest := s[len(s)-len(tail(s, keep-len(head))):]
	marker := fmt.Sprintf(" [... %d bytes cut ...] ", len(s)-len(head)-len(rest))
	return head + marker + rest
}

// tail returns the last n bytes of s or fewer, starting on a rune.
func tail(s string, n int) string {
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}

// runeStart returns the largest index ≤ i that starts a rune of s.
func runeStart(s string, i int) int {
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}
