package main

import (
	"math"
	"slices"
	"time"
)

// median returns the middle of xs, the mean of the two middle values when
// their number is even; zero for none. xs is not modified.
func median(xs []time.Duration) time.Duration {
	return quantile(xs, 0.5)
}

// quantile returns the q-quantile of xs (0 ≤ q ≤ 1), interpolating linearly
// between the two nearest ranks as most statistics packages do by default;
// zero for none. xs is not modified.
func quantile(xs []time.Duration, q float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	q = min(max(q, 0), 1)
	pos := q * float64(len(s)-1)
	lo := int(pos)
	if lo == len(s)-1 {
		return s[lo]
	}
	frac := pos - float64(lo)
	return s[lo] + time.Duration(math.Round(frac*float64(s[lo+1]-s[lo])))
}

// medianFloat is median for plain numbers.
func medianFloat(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
