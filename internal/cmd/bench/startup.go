package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// traceRuns is the number of GODEBUG=inittrace=1 runs per bootstrap.
const traceRuns = 5

// placeholderTopic is the topic scan-notifier is configured with when it
// runs without moto: it is only validated at start-up.
const placeholderTopic = "arn:aws:sns:" + region + ":" + account + ":ecr-stack-bench-alerts"

// initCosts measures each bootstrap without the emulator: the time from
// process start to its first request for an event, what its package
// initialisers cost, and that it makes no network call before that request.
func (b *bench) initCosts(ctx context.Context) error {
	all := b.present(hello, ensureRepo, scanNotifier)
	if b.native[hello] == "" {
		return fmt.Errorf("the hello-world bootstrap was not built")
	}

	// A proxy without a target stands for every endpoint: AWS's, the
	// instance metadata service's, and any other HTTP(S) host through
	// HTTP(S)_PROXY. Whatever reaches it is a call made during init.
	sink, err := startProxy("")
	if err != nil {
		return err
	}
	defer sink.Close()
	env := func(fn string, extra ...string) []string {
		e := append(lambdaEnv(b.native[fn]), awsEnv(sink.URL)...)
		e = append(e, functionEnv(fn, placeholderTopic)...)
		e = append(e,
			"AWS_EC2_METADATA_SERVICE_ENDPOINT="+sink.URL,
			"HTTP_PROXY="+sink.URL, "HTTPS_PROXY="+sink.URL)
		return append(e, extra...)
	}

	ready := map[string][]time.Duration{}
	traces := map[string][]initTrace{}
	b.log.Info("timing init", "runs", b.opts.ready, "traceRuns", traceRuns)
	for i := range max(b.opts.ready, traceRuns) {
		for _, fn := range rotate(all, i) {
			if i < b.opts.ready {
				r, err := runUntilReady(ctx, b.native[fn], env(fn), 0)
				if err != nil {
					return err
				}
				ready[fn] = append(ready[fn], r.Ready)
			}
			if i < traceRuns {
				r, err := runUntilReady(ctx, b.native[fn], env(fn, "GODEBUG=inittrace=1"), 0)
				if err != nil {
					return err
				}
				t, err := parseInitTrace(bytes.NewReader(r.Output))
				if err != nil {
					return fmt.Errorf("tracing init of %s: %w", fn, err)
				}
				traces[fn] = append(traces[fn], t)
			}
		}
	}

	base := median(ready[hello])
	baseTrace := medianTrace(traces[hello])
	for _, fn := range all {
		if fn == hello {
			continue
		}
		m := median(ready[fn])
		b.tab.add(row{
			Figure: fmt.Sprintf("init: %s, process start → first request for an event "+
				"(own runtime API, median of %d)", fn, len(ready[fn])),
			Value:  fmt.Sprintf("%s (%s)", fmtMs(m), fmtSignedMs(m-base)),
			Result: info,
			Ratio:  fmtRatio(float64(m)/float64(base)) + " hello-world",
		})
	}
	b.tab.add(row{
		Figure: fmt.Sprintf("init: hello-world, process start → first request for an event "+
			"(median of %d)", len(ready[hello])),
		Value: fmtMs(base), Result: info,
	})
	for _, fn := range all {
		t := medianTrace(traces[fn])
		r := row{
			Figure: fmt.Sprintf("package init (GODEBUG=inittrace=1, median of %d): %s",
				len(traces[fn]), fn),
			Value: fmt.Sprintf("%s in %d packages, %s allocated", fmtMsFloat(t.Clock), t.Packages,
				fmtKiB(t.Bytes)),
			Result: info,
		}
		if fn != hello {
			r.Value += fmt.Sprintf(" (%s)", fmtSignedMs(msDuration(t.Clock-baseTrace.Clock)))
			if baseTrace.Clock > 0 {
				r.Ratio = fmtRatio(t.Clock/baseTrace.Clock) + " hello-world"
			}
			b.tab.note("Slowest package init of %s: %s, %s.", fn, t.Slowest, fmtMsFloat(t.Max))
		}
		b.tab.add(r)
	}

	for _, fn := range all {
		if fn == hello {
			continue
		}
		sink.Reset()
		if _, err := runUntilReady(ctx, b.native[fn], env(fn), b.opts.settle); err != nil {
			return err
		}
		calls := sink.Calls()
		value := "0 requests"
		if len(calls) > 0 {
			value = fmt.Sprintf("%d: %s", len(calls), strings.Join(calls, ", "))
		}
		b.tab.add(row{
			Figure: fmt.Sprintf("network calls during init: %s (until %s after its first "+
				"request for an event)", fn, b.opts.settle),
			Value: value, Target: "0", Result: verdict(len(calls) == 0),
		})
	}
	return nil
}

// present returns the functions of fns that were built for this machine.
func (b *bench) present(fns ...string) []string {
	var out []string
	for _, fn := range fns {
		if b.native[fn] != "" {
			out = append(out, fn)
		}
	}
	return out
}

// rotate returns xs rotated left by i, so that successive rounds of
// measurements start with a different bootstrap and none always runs first.
func rotate[T any](xs []T, i int) []T {
	if len(xs) == 0 {
		return nil
	}
	i %= len(xs)
	return append(append([]T{}, xs[i:]...), xs[:i]...)
}

// medianTrace returns the trace whose clock time is the median (the lower
// middle one for an even number).
func medianTrace(ts []initTrace) initTrace {
	if len(ts) == 0 {
		return initTrace{}
	}
	s := slices.Clone(ts)
	slices.SortFunc(s, func(a, b initTrace) int { return cmp.Compare(a.Clock, b.Clock) })
	return s[(len(s)-1)/2]
}

// msDuration converts milliseconds to a duration.
func msDuration(ms float64) time.Duration {
	return time.Duration(ms * float64(time.Millisecond))
}

// fmtKiB formats a byte count in kibibytes, e.g. "412 KiB".
func fmtKiB(n int64) string {
	return fmt.Sprintf("%.0f KiB", float64(n)/1024)
}
