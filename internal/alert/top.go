package alert

import (
	"slices"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

// top returns the indexes of the k findings that come first in scan.Compare's
// order, in that order. It keeps a bounded heap of indexes, so it neither
// copies nor sorts the findings: O(n log k) time and O(k) memory however many
// findings there are. Equal findings keep their input order.
func top(findings []scan.Finding, k int) []int {
	k = min(k, len(findings))
	if k <= 0 {
		return nil
	}
	// before reports whether finding i comes before finding j.
	before := func(i, j int) bool {
		if c := scan.Compare(&findings[i], &findings[j]); c != 0 {
			return c < 0
		}
		return i < j
	}
	// h is a heap whose root is the kept finding that comes last, the first
	// to give way to a finding that comes before it.
	h := make([]int, 0, k)
	for i := range findings {
		if len(h) < k {
			h = append(h, i)
			up(h, len(h)-1, before)
			continue
		}
		if before(i, h[0]) {
			h[0] = i
			down(h, 0, before)
		}
	}
	slices.SortFunc(h, func(i, j int) int {
		switch {
		case i == j:
			return 0
		case before(i, j):
			return -1
		default:
			return 1
		}
	})
	return h
}

// up restores the heap property after appending at position i: a parent
// never comes before its children.
func up(h []int, i int, before func(i, j int) bool) {
	for i > 0 {
		parent := (i - 1) / 2
		if !before(h[parent], h[i]) {
			return
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

// down restores the heap property after replacing the element at position i.
func down(h []int, i int, before func(i, j int) bool) {
	for {
		last := i
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < len(h) && before(h[last], h[c]) {
				last = c
			}
		}
		if last == i {
			return
		}
		h[i], h[last] = h[last], h[i]
		i = last
	}
}
