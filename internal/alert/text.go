package alert

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ellipsis marks text that was shortened.
const ellipsis = "..."

// oneLine makes s safe for a single line of the body: invalid UTF-8 becomes
// U+FFFD, line breaks, tabs and other control or non-character code points
// become spaces, surrounding space is trimmed, and the result is cut to at
// most limit bytes (with an ellipsis) on a rune boundary.
func oneLine(s string, limit int) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !bodyRune(r) {
			clean = false
			break
		}
	}
	if !clean {
		s = strings.Map(func(r rune) rune {
			if r != utf8.RuneError && !bodyRune(r) {
				return ' '
			}
			return r
		}, strings.ToValidUTF8(s, "\uFFFD"))
	}
	return cut(strings.TrimSpace(s), limit)
}

// bodyRune reports whether r may appear inside a line of the body: SNS
// carries messages as XML text, so control characters and non-characters are
// left out, and line breaks are ours to place.
func bodyRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f:
		return false
	case r >= 0x80 && r < 0xa0:
		return false
	case r == 0x2028, r == 0x2029:
		return false
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
		return false
	}
	return true
}

// cut shortens s to at most limit bytes on a rune boundary, ending with an
// ellipsis when it had to shorten.
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	if limit <= len(ellipsis) {
		return ellipsis[:max(limit, 0)]
	}
	end := limit - len(ellipsis)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + ellipsis
}

// ascii makes s printable ASCII for a subject: every other character becomes
// "?", and runs of space collapse to one.
func ascii(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == ' ' || unicode.IsSpace(r):
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		case r > 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
		space = false
	}
	return strings.TrimSpace(b.String())
}

// middle shortens printable ASCII s to at most limit bytes by replacing its
// middle with an ellipsis, keeping both the start of a repository name and
// the tag at its end.
func middle(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	if limit <= len(ellipsis) {
		return ellipsis[:max(limit, 0)]
	}
	keep := limit - len(ellipsis)
	head := keep / 2
	tail := keep - head
	return s[:head] + ellipsis + s[len(s)-tail:]
}
