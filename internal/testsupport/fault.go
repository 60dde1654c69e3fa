package testsupport

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// faultKind says what a Fault does.
type faultKind int

// The kinds of Fault, one per constructor.
const (
	faultAPIError faultKind = iota + 1 // a modelled AWS error
	faultStatus                        // a bare HTTP status
	faultReset                         // the connection closed with a reset
	faultDelay                         // a wait, then the normal answer
	faultHang                          // no answer until the client gives up
)

// Fault is what a Proxy or a ResponseServer does to a request instead of, or
// before, answering it normally. Make one with Throttle, APIError, Status or
// Delay, or use Reset or Hang.
type Fault struct {
	kind    faultKind
	status  int
	code    string
	message string
	delay   time.Duration
}

// Reset closes the connection without an answer, as a network failure would;
// the client sees a connection reset.
var Reset = Fault{kind: faultReset}

// Hang answers nothing until the client gives up (its context ends or its
// timeout passes) or the server closes at the end of the test.
var Hang = Fault{kind: faultHang}

// Throttle answers with a modelled throttling error, status 400, carrying
// code. An empty code picks the protocol's usual one: "ThrottlingException"
// for JSON protocols (ECR, SSM, SQS), "Throttling" for the query protocol
// (SNS), "SlowDown" for S3. The SDK retries it.
func Throttle(code string) Fault {
	return APIError(http.StatusBadRequest, code, "Rate exceeded")
}

// APIError answers with a modelled error of the given HTTP status, code and
// message, shaped for the request's protocol, e.g.
// APIError(400, "TooManyUpdates", "too many updates") for SSM.
func APIError(status int, code, message string) Fault {
	return Fault{kind: faultAPIError, status: status, code: code, message: message}
}

// Status answers with the HTTP status code and a short plain-text body that
// no SDK deserialises into a modelled error. The SDK retries 500, 502, 503
// and 504.
func Status(code int) Fault {
	return Fault{kind: faultStatus, status: code}
}

// Delay waits d (less if the client gives up first), then handles the request
// normally.
func Delay(d time.Duration) Fault {
	return Fault{kind: faultDelay, delay: d}
}

// String describes the fault for test logs.
func (f Fault) String() string {
	switch f.kind {
	case faultAPIError:
		return fmt.Sprintf("api error %d %s", f.status, f.code)
	case faultStatus:
		return fmt.Sprintf("status %d", f.status)
	case faultReset:
		return "reset"
	case faultDelay:
		return "delay " + f.delay.String()
	case faultHang:
		return "hang"
	}
	return "none"
}

// pending is a fault waiting for calls.
type pending struct {
	fault Fault
	left  int // calls still to fault; Always: every call
}

// faultQueue holds the faults waiting for calls, the one to apply first at
// its head.
type faultQueue []*pending

// add queues f for the next n calls after those already waiting; n of Always
// (or any negative n) applies it to every call, and 0 does nothing.
func (q *faultQueue) add(n int, f Fault) {
	if n == 0 {
		return
	}
	if n < 0 {
		n = Always
	}
	*q = append(*q, &pending{fault: f, left: n})
}

// next returns the fault to apply to a call, if any, and counts the call
// against it.
func (q *faultQueue) next() (Fault, bool) {
	if len(*q) == 0 {
		return Fault{}, false
	}
	head := (*q)[0]
	if head.left > 0 {
		head.left--
		if head.left == 0 {
			*q = (*q)[1:]
		}
	}
	return head.fault, true
}

// apply carries out f on a request. It reports whether it answered the
// request; false means the request is to be handled normally. closed ends a
// hang when the server closes.
func (f Fault) apply(w http.ResponseWriter, r *http.Request, proto localrun.Protocol,
	closed <-chan struct{}) bool {
	switch f.kind {
	case faultDelay:
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
		case <-closed:
		}
		return false

	case faultHang:
		select {
		case <-r.Context().Done():
		case <-closed:
		}
		return true

	case faultReset:
		resetConn(w)
		return true

	case faultStatus:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(f.status)
		fmt.Fprintf(w, "injected status %d\n", f.status)
		return true

	case faultAPIError:
		writeAPIError(w, proto, f.status, f.code, f.message)
		return true
	}
	return false
}

// resetConn closes the request's connection with a TCP reset and no answer.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Without hijacking, the best left is an answer no client accepts.
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// writeAPIError writes a modelled AWS error in the shape of proto.
func writeAPIError(w http.ResponseWriter, proto localrun.Protocol, status int, code,
	message string) {
	const requestID = "00000000-0000-0000-0000-000000000000"
	switch proto {
	case localrun.ProtocolQuery:
		if code == "" {
			code = "Throttling"
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-RequestId", requestID)
		w.WriteHeader(status)
		fmt.Fprintf(w, "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>"+
			"<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>",
			xmlEscape(code), xmlEscape(message), requestID)
	case localrun.ProtocolS3:
		if code == "" {
			code = "SlowDown"
		}
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("X-Amz-Request-Id", requestID)
		w.WriteHeader(status)
		fmt.Fprintf(w, "<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>",
			xmlEscape(code), xmlEscape(message), requestID)
	default:
		if code == "" {
			code = "ThrottlingException"
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-RequestId", requestID)
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		body, _ := json.Marshal(map[string]string{"__type": code, "message": message})
		_, _ = w.Write(body)
	}
}

// xmlEscape returns s escaped for XML character data.
func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
