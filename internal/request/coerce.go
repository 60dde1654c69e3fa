package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The readers below accept a value as encoding/json decodes it (string,
// float64 or json.Number, bool, map[string]any, []any) and, because
// CloudFormation delivers every scalar of a custom resource as a string, the
// string spelling of each scalar too. Each reports one problem on failure.

// asObject returns v as a JSON object.
func asObject(p *problems, path string, v any) (map[string]any, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		p.add(path, "must be an object")
	}
	return obj, ok
}

// asList returns v as a JSON array.
func asList(p *problems, path string, v any) ([]any, bool) {
	list, ok := v.([]any)
	if !ok {
		p.add(path, "must be a list")
	}
	return list, ok
}

// asString returns v as a string. Numbers and booleans are not turned into
// strings: CloudFormation already delivers strings, and a native number where
// a name belongs is more likely a mistake than a wish.
func asString(p *problems, path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		p.add(path, "must be a string")
	}
	return s, ok
}

// asBool returns v as a boolean. Besides JSON true and false it accepts the
// strings "true" and "false" as CloudFormation sends them, and their "True",
// "TRUE", "False" and "FALSE" spellings, which YAML 1.1 tools and quoted
// template values produce. Anything else ("yes", "1", "tRuE") is rejected so
// that a typo cannot silently mean false.
func asBool(p *problems, path string, v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		switch b {
		case "true", "True", "TRUE":
			return true, true
		case "false", "False", "FALSE":
			return false, true
		}
	}
	p.add(path, "must be true or false")
	return false, false
}

// asInt returns v as a whole number from lo to hi. JSON numbers are accepted
// when they are whole (14 and 14.0 alike); strings must be plain decimal
// integers such as "14", the way CloudFormation renders a template's number.
func asInt(p *problems, path string, v any, lo, hi int64) (int64, bool) {
	n, ok := wholeNumber(v)
	if !ok || n < lo || n > hi {
		p.addf(path, "must be a whole number from %d to %d", lo, hi)
		return 0, false
	}
	return n, true
}

// wholeNumber converts v to an int64 without reporting anything.
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return wholeFloat(n)
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err != nil {
			return 0, false
		}
		return wholeFloat(f)
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	case int:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// wholeFloat converts f to an int64 when it is a whole number in range.
func wholeFloat(f float64) (int64, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) ||
		f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// asDocument returns v as a JSON object given either as an object or as a
// string holding one, the two ways AWS::ECR::Repository's policy properties
// are written. Text is decoded with numbers kept as json.Number, so that a
// policy's numbers keep their spelling.
func asDocument(p *problems, path string, v any) (map[string]any, bool) {
	var doc any
	switch d := v.(type) {
	case map[string]any:
		return d, true
	case string:
		if err := decodeJSON([]byte(d), &doc); err != nil {
			p.addf(path, "must be a JSON object: %s", jsonProblem(err))
			return nil, false
		}
	default:
		p.add(path, "must be a JSON object or a string holding one")
		return nil, false
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		p.add(path, "must be a JSON object")
	}
	return obj, ok
}

// decodeJSON decodes exactly one JSON value from text into v, keeping
// numbers as json.Number.
func decodeJSON(text []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the text is empty")
		}
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("there is more text after the JSON value")
	}
	return nil
}

// jsonProblem words a JSON decoding error for a person reading a template.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("%s (at character %d)", syntax.Error(), syntax.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the text ends too early"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// canonicalJSON encodes v compactly with object keys sorted (encoding/json
// sorts map keys) and without HTML escaping, so the text is stable and reads
// as written.
func canonicalJSON(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
