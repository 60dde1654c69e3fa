package scan

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// object is a decoded JSON object that remembers its path, so every reading
// error can name the field it concerns.
type object struct {
	path string
	m    map[string]json.RawMessage
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// decodeObject decodes raw as an object found at path. It reports false, and
// no error, when raw is absent or null.
func decodeObject(raw json.RawMessage, path string) (object, bool, error) {
	if isNull(raw) {
		return object{path: path}, false, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return object{path: path}, false, &FieldError{Field: path, Rule: "not a JSON object"}
	}
	return object{path: path, m: m}, true, nil
}

// field returns the path of the member key.
func (o object) field(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// has reports whether key is present and not null.
func (o object) has(key string) bool {
	return !isNull(o.m[key])
}

// object returns the member key as an object; false when absent or null.
func (o object) object(key string) (object, bool, error) {
	return decodeObject(o.m[key], o.field(key))
}

// str returns the member key as a trimmed string: "" when absent or null, the
// text of a number or boolean, and an error for objects and arrays.
func (o object) str(key string) (string, error) {
	raw := o.m[key]
	if isNull(raw) {
		return "", nil
	}
	s, ok := scalarText(raw)
	if !ok {
		return "", &FieldError{Field: o.field(key), Rule: "not a string"}
	}
	return strings.TrimSpace(s), nil
}

// text returns the member key as a trimmed string, or "" when it is absent or
// not a scalar. It reads descriptive fields, where a surprise is not worth
// rejecting the event for.
func (o object) text(key string) string {
	s, ok := scalarText(o.m[key])
	if !ok {
		return ""
	}
	return strings.TrimSpace(s)
}

// scalarText returns the text of a JSON string, number or boolean.
func scalarText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case '{', '[', 'n':
		return "", false
	default:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err == nil {
			return n.String(), true
		}
		var b bool
		if err := json.Unmarshal(raw, &b); err == nil {
			return strconv.FormatBool(b), true
		}
		return "", false
	}
}

// strs returns the member key as a list of strings, accepting a single string
// as a list of one. Empty strings and duplicates are dropped.
func (o object) strs(key string) ([]string, error) {
	raw := o.m[key]
	if isNull(raw) {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		s, ok := scalarText(raw)
		if !ok {
			return nil, &FieldError{Field: o.field(key), Rule: "not a list of strings"}
		}
		list = []json.RawMessage{json.RawMessage(strconv.Quote(s))}
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		s, ok := scalarText(item)
		if !ok && !isNull(item) {
			return nil, &FieldError{
				Field: o.field(key) + "[" + strconv.Itoa(i) + "]",
				Rule:  "not a string",
			}
		}
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// array returns the member key as a list of raw values; nil when absent, null
// or not a list.
func (o object) array(key string) []json.RawMessage {
	var list []json.RawMessage
	if err := json.Unmarshal(o.m[key], &list); err != nil {
		return nil
	}
	return list
}

// number returns the member key as a finite number, accepting numeric
// strings; false when it is absent or not a number.
func (o object) number(key string) (float64, bool) {
	s, ok := scalarText(o.m[key])
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// maxCount bounds a severity count; larger values are treated as malformed.
const maxCount = 1 << 30

// count reads a severity count: a whole number from 0 to maxCount, written as
// a number or a numeric string.
func (o object) count(key string) (int, error) {
	f, ok := o.number(key)
	if !ok || f < 0 || f > maxCount || f != math.Trunc(f) {
		return 0, &FieldError{Field: o.field(key), Rule: "not a whole number of findings"}
	}
	return int(f), nil
}

// timeLayouts are the layouts readTime accepts besides epoch seconds: RFC
// 3339 and its relatives, and the "Jan 2, 2006, 3:04:05 PM" that Inspector
// writes inside its findings.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"Jan 2, 2006, 3:04:05 PM",
	"Jan 2, 2006, 3:04:05 PM MST",
	"Jan 2, 2006 3:04:05 PM",
	time.RFC1123Z,
	time.RFC1123,
}

// readTime reads a timestamp in any of timeLayouts or as epoch seconds (or
// milliseconds, when the number is too large to be seconds), in UTC. It
// reports false when the value cannot be read.
func readTime(raw json.RawMessage) (time.Time, bool) {
	s, ok := scalarText(raw)
	if !ok {
		return time.Time{}, false
	}
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f >= 1e16 {
			return time.Time{}, false
		}
		if f >= 1e11 {
			f /= 1000
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
