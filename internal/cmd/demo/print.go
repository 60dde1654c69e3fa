package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// indent starts every line of a section's body.
const indent = "    "

// printer writes the demo's report: sections with a header, and indented
// lines, tables and blocks under them. It keeps the first write error.
type printer struct {
	w   io.Writer
	err error
}

// printf writes unless an earlier write failed.
func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// title writes the report's first line, underlined.
func (p *printer) title(s string) {
	p.printf("%s\n%s\n", s, strings.Repeat("=", len(s)))
}

// section starts a section.
func (p *printer) section(s string) {
	p.printf("\n== %s\n\n", s)
}

// line writes one indented line.
func (p *printer) line(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if s == "" {
		p.printf("\n")
		return
	}
	p.printf("%s%s\n", indent, s)
}

// note writes a remark on the line above, indented further.
func (p *printer) note(format string, args ...any) {
	p.line("  "+format, args...)
}

// table writes rows of a name and a value, the values aligned. A row with
// no name continues the value above, as do the lines of a value after its
// first.
func (p *printer) table(rows [][2]string) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		name := r[0]
		if name != "" {
			name += ":"
		}
		for i, v := range strings.Split(r[1], "\n") {
			if i > 0 {
				name = ""
			}
			fmt.Fprintf(tw, "%s%s\t%s\n", indent, name, v)
		}
	}
	tw.Flush()
	p.printf("%s", buf.String())
}

// inlineJSON is the longest JSON document json writes on its label's line.
const inlineJSON = 40

// json writes label and a JSON document: on one line when it is short,
// indented under label otherwise, or as it is when it is not JSON.
func (p *printer) json(label string, b []byte) {
	b = bytes.TrimSpace(b)
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err == nil && compact.Len() <= inlineJSON {
		p.line("%s %s", label, compact.String())
		return
	}
	p.line("%s", label)
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, indent+"  ", "  "); err != nil {
		p.block(string(b))
		return
	}
	p.printf("%s  %s\n", indent, buf.String())
}

// block writes text with every line indented and marked, so that a message
// body stands apart from the report.
func (p *printer) block(text string) {
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		p.printf("%s  | %s\n", indent, l)
	}
}
