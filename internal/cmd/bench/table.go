package main

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// The verdicts a row can carry.
const (
	pass    = "pass"
	miss    = "MISS"
	info    = "info"
	failed  = "error"
	skipped = "skipped"
)

// row is one figure of the table.
type row struct {
	// Figure says what was measured and how, e.g. "cold start: ensure-repo".
	Figure string
	// Value is the measurement, formatted with its unit.
	Value string
	// Target is the goal, e.g. "≤ 10 MiB", or "" when there is none.
	Target string
	// Result is pass, miss, info, error or skipped.
	Result string
	// Ratio is the comparison's ratio, e.g. "1.4× hello-world", or "".
	Ratio string
}

// verdict returns pass when ok holds and miss otherwise.
func verdict(ok bool) string {
	if ok {
		return pass
	}
	return miss
}

// table is the report: its rows in order and notes printed under it.
type table struct {
	rows  []row
	notes []string
}

// add appends rows.
func (t *table) add(rs ...row) {
	t.rows = append(t.rows, rs...)
}

// note appends a line printed under the table.
func (t *table) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// misses returns the rows whose target was missed or that could not be
// measured.
func (t *table) misses() []row {
	var out []row
	for _, r := range t.rows {
		if r.Result == miss || r.Result == failed {
			out = append(out, r)
		}
	}
	return out
}

// writeMarkdown writes the table as a GitHub-flavoured Markdown table with
// aligned columns, followed by the notes as a list.
func (t *table) writeMarkdown(w io.Writer) error {
	header := []string{"Figure", "Value", "Target", "Result", "Ratio"}
	cells := make([][]string, 0, len(t.rows)+1)
	cells = append(cells, header)
	for _, r := range t.rows {
		cells = append(cells, []string{r.Figure, r.Value, r.Target, r.Result, r.Ratio})
	}
	width := make([]int, len(header))
	for _, c := range cells {
		for i, s := range c {
			width[i] = max(width[i], utf8.RuneCountInString(escapeCell(s)))
		}
	}

	var b strings.Builder
	line := func(c []string) {
		b.WriteString("|")
		for i, s := range c {
			s = escapeCell(s)
			b.WriteString(" " + s + strings.Repeat(" ", width[i]-utf8.RuneCountInString(s)) + " |")
		}
		b.WriteString("\n")
	}
	line(cells[0])
	b.WriteString("|")
	for _, n := range width {
		b.WriteString(strings.Repeat("-", n+2) + "|")
	}
	b.WriteString("\n")
	for _, c := range cells[1:] {
		line(c)
	}
	if len(t.notes) > 0 {
		b.WriteString("\n")
		for _, n := range t.notes {
			b.WriteString("- " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeCell keeps a cell on one line and its pipes out of the table's
// structure.
func escapeCell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// MiB is a mebibyte.
const MiB = 1 << 20

// fmtMiB formats a byte count in mebibytes, e.g. "9.42 MiB".
func fmtMiB(n int64) string {
	return fmt.Sprintf("%.2f MiB", float64(n)/MiB)
}

// fmtMs formats a duration in milliseconds with a precision that suits it:
// "0.084 ms", "3.41 ms", "18.2 ms", "1234 ms".
func fmtMs(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	return fmtMsFloat(ms)
}

// fmtMsFloat is fmtMs for a number of milliseconds.
func fmtMsFloat(ms float64) string {
	abs := ms
	if abs < 0 {
		abs = -abs
	}
	switch {
	case abs < 1:
		return fmt.Sprintf("%.3f ms", ms)
	case abs < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case abs < 1000:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// fmtSignedMs formats a difference in milliseconds with its sign, e.g.
// "+4.12 ms".
func fmtSignedMs(d time.Duration) string {
	s := fmtMs(d)
	if d >= 0 {
		s = "+" + s
	}
	return s
}

// fmtRatio formats a ratio, e.g. "1.42×" or "187×".
func fmtRatio(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f×", x)
	case x >= 10:
		return fmt.Sprintf("%.1f×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

// fmtCount formats an integer with thin groups of three digits, e.g.
// "1,234,567".
func fmtCount(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
