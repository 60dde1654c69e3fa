package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// initLine matches one line that GODEBUG=inittrace=1 prints per package, such
// as "init net/http @3.2 ms, 0.41 ms clock, 81920 bytes, 712 allocs".
var initLine = regexp.MustCompile(
	`^init (\S+) @([0-9.]+) ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs`)

// initTrace sums what GODEBUG=inittrace=1 reported for one process.
type initTrace struct {
	// Packages is the number of packages with init work.
	Packages int
	// Clock is the wall-clock time spent running package initialisers, in
	// milliseconds.
	Clock float64
	// Bytes and Allocs are what the initialisers allocated on the heap.
	Bytes, Allocs int64
	// Slowest names the package whose initialisers took longest, and Max is
	// that time in milliseconds.
	Slowest string
	Max     float64
}

// parseInitTrace sums the init lines in r, ignoring every other line. It
// returns an error when r holds no init line at all, which means the process
// did not run with inittrace on.
func parseInitTrace(r io.Reader) (initTrace, error) {
	var t initTrace
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		m := initLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		clock, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return t, fmt.Errorf("parsing init clock %q: %w", m[3], err)
		}
		bytes, err := strconv.ParseInt(m[4], 10, 64)
		if err != nil {
			return t, fmt.Errorf("parsing init bytes %q: %w", m[4], err)
		}
		allocs, err := strconv.ParseInt(m[5], 10, 64)
		if err != nil {
			return t, fmt.Errorf("parsing init allocs %q: %w", m[5], err)
		}
		t.Packages++
		t.Clock += clock
		t.Bytes += bytes
		t.Allocs += allocs
		if clock > t.Max {
			t.Max, t.Slowest = clock, m[1]
		}
	}
	if err := sc.Err(); err != nil {
		return t, fmt.Errorf("reading init trace: %w", err)
	}
	if t.Packages == 0 {
		return t, fmt.Errorf("reading init trace: no init lines")
	}
	return t, nil
}
