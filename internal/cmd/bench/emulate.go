package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// invokeTimeout bounds one invocation.
const invokeTimeout = time.Minute

// coldTarget is how much a bootstrap's cold start may add over hello-world's.
const coldTarget = 15 * time.Millisecond

// maxRSS is the peak resident set size a function may reach.
const maxRSS = 64 * MiB

// largeScan is the number of findings of the large notification.
const largeScan = 10000

// The repositories the measurements use.
const (
	convergedRepository = allowedPrefix + "app"
	scannedRepository   = allowedPrefix + "scanned"
	largeRepository     = allowedPrefix + "large"
	refusedRepository   = "outside/app"
	cliNewRepository    = allowedPrefix + "cli-new"
)

// world is what the measurements under the emulator share.
type world struct {
	moto  *localrun.Moto
	calls *proxy // counting proxy in front of moto
	topic string // SNS topic ARN in moto
	// digest of the scanned image in scannedRepository
	digest string
}

// underEmulator starts moto and measures each function under the emulator:
// API calls, warm latency and peak memory, the large notification, cold
// starts, and the AWS CLI comparison.
func (b *bench) underEmulator(ctx context.Context) error {
	if len(b.present(functions...)) == 0 {
		return errors.New("no function was built")
	}
	b.log.Info("starting moto")
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	m, err := localrun.StartMoto(sctx)
	cancel()
	if err != nil {
		return err
	}
	defer m.Close()

	w := &world{moto: m}
	w.calls, err = startProxy(m.URL)
	if err != nil {
		return err
	}
	defer w.calls.Close()

	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cfg := m.Config()
	if w.topic, err = localrun.CreateTopic(fctx, cfg, "ecr-stack-bench-alerts"); err != nil {
		return err
	}
	// moto completes the scan at once, with one HIGH finding.
	if w.digest, err = localrun.PushImage(fctx, cfg, scannedRepository, "1.0.0"); err != nil {
		return err
	}
	if err := localrun.ScanImage(fctx, cfg, scannedRepository, w.digest); err != nil {
		return err
	}

	if b.native[ensureRepo] != "" {
		b.section(ctx, "ensure-repo", func(ctx context.Context) error { return b.ensure(ctx, w) })
	}
	if b.native[scanNotifier] != "" {
		b.section(ctx, "scan-notifier", func(ctx context.Context) error { return b.scan(ctx, w) })
		b.section(ctx, "large notification", func(ctx context.Context) error {
			return b.largeScan(ctx, w)
		})
	}
	b.section(ctx, "cold starts", func(ctx context.Context) error { return b.coldStarts(ctx, w) })
	if b.native[ensureRepo] != "" {
		b.section(ctx, "aws cli", func(ctx context.Context) error { return b.cli(ctx, w) })
	}
	return nil
}

// emulator starts the emulator for a function that reaches AWS at endpoint.
func (b *bench) emulator(ctx context.Context, fn, endpoint, topic string) (*localrun.Emulator,
	error) {
	env := append(awsEnv(endpoint), functionEnv(fn, topic)...)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return localrun.StartEmulator(ctx, localrun.EmulatorConfig{Bootstrap: b.native[fn], Env: env})
}

// invoke sends payload and returns the answer and the time it took. A
// function error is returned as a *localrun.FunctionError with the body.
func invoke(ctx context.Context, e *localrun.Emulator, payload []byte) ([]byte, time.Duration,
	error) {
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	start := time.Now()
	body, err := e.Invoke(ctx, payload)
	return body, time.Since(start), err
}

// invokeOK is invoke that also treats a function error as a failure,
// adding the function's last log lines to it.
func invokeOK(ctx context.Context, e *localrun.Emulator, payload []byte) ([]byte, time.Duration,
	error) {
	body, d, err := invoke(ctx, e, payload)
	if err != nil {
		return body, d, fmt.Errorf("%w; function logs: %s", err, tailBytes(e.Logs(), 1500))
	}
	return body, d, nil
}

// ensure measures ensure-repo: the calls of a new and of a converged
// repository and of a refused request, warm latency and peak memory.
func (b *bench) ensure(ctx context.Context, w *world) error {
	e, err := b.emulator(ctx, ensureRepo, w.calls.URL, "")
	if err != nil {
		return err
	}
	defer e.Close()

	w.calls.Reset()
	body, _, err := invokeOK(ctx, e, ensureRequest(convergedRepository))
	if err != nil {
		return fmt.Errorf("ensuring new repository %q: %w", convergedRepository, err)
	}
	b.log.Info("ensured new repository", "result", string(body))
	b.ensureURI = resultURI(body)
	calls := w.calls.Calls()
	b.tab.add(row{
		Figure: "API calls: ensure of a new repository",
		Value:  describeCalls(calls), Result: info,
	})

	w.calls.Reset()
	if _, _, err := invokeOK(ctx, e, ensureRequest(convergedRepository)); err != nil {
		return fmt.Errorf("ensuring converged repository %q: %w", convergedRepository, err)
	}
	calls = w.calls.Calls()
	reads, writes := classify(calls)
	// The physical limit: DescribeRepositories returns scan on push and tag
	// mutability, which the request names; ListTagsForResource returns the
	// ownership tag, which every self-service ensure checks and no other read
	// returns; GetParameter returns the parameter.
	const limit = 3
	b.tab.add(row{
		Figure: "API calls: ensure of an already-converged repository (scan on push, mutability)",
		Value:  describeCalls(calls),
		Target: fmt.Sprintf("≤ %d reads (settings, ownership, parameter), 0 writes", limit),
		Result: verdict(writes == 0 && reads <= limit),
	})

	ds, err := b.warmRuns(ctx, e, "ensure-repo, converged repository", func() []byte {
		return ensureRequest(convergedRepository)
	})
	if err != nil {
		return fmt.Errorf("ensuring converged repository %q: %w", convergedRepository, err)
	}
	b.warmEnsure = median(ds)
	b.rssRow("peak RSS: ensure-repo after the invocations above", b.native[ensureRepo])

	w.calls.Reset()
	_, _, err = invoke(ctx, e, ensureRequest(refusedRepository))
	var fe *localrun.FunctionError
	if !errors.As(err, &fe) {
		return fmt.Errorf("ensuring %q outside %q: got %v, want a function error", refusedRepository,
			allowedPrefix, err)
	}
	calls = w.calls.Calls()
	b.tab.add(row{
		Figure: "API calls: self-service request refused by the prefix policy",
		Value:  describeCalls(calls), Target: "0", Result: verdict(len(calls) == 0),
	})
	return nil
}

// scan measures scan-notifier on moto's scan: the calls below and at the
// threshold, warm latency and peak memory.
func (b *bench) scan(ctx context.Context, w *world) error {
	e, err := b.emulator(ctx, scanNotifier, w.calls.URL, w.topic)
	if err != nil {
		return err
	}
	defer e.Close()

	w.calls.Reset()
	below := scanEvent(scannedRepository, w.digest, map[string]int{"MEDIUM": 2, "LOW": 3})
	if _, _, err := invokeOK(ctx, e, below); err != nil {
		return fmt.Errorf("notifying on a scan below the threshold: %w", err)
	}
	calls := w.calls.Calls()
	b.tab.add(row{
		Figure: "API calls: scan below the threshold (MEDIUM and LOW, threshold HIGH)",
		Value:  describeCalls(calls), Target: "0", Result: verdict(len(calls) == 0),
	})

	at := map[string]int{"HIGH": 1}
	w.calls.Reset()
	if _, _, err := invokeOK(ctx, e, scanEvent(scannedRepository, w.digest, at)); err != nil {
		return fmt.Errorf("notifying on a scan at the threshold: %w", err)
	}
	calls = w.calls.Calls()
	b.tab.add(row{
		Figure: "API calls: scan at the threshold (moto: 1 finding)",
		Value:  describeCalls(calls),
		Target: "1 page + 1 publish",
		Result: verdict(pagesAndPublish(calls, 1)),
	})

	_, err = b.warmRuns(ctx, e, "scan-notifier, scan at the threshold", func() []byte {
		return scanEvent(scannedRepository, w.digest, at)
	})
	if err != nil {
		return fmt.Errorf("notifying on a scan at the threshold: %w", err)
	}
	b.rssRow("peak RSS: scan-notifier after the invocations above", b.native[scanNotifier])
	return nil
}

// warmRuns invokes e b.opts.warm times, each with a new payload, and adds a
// row of the median and 90th percentile of the latencies, named "warm
// invocation: " and what. It returns the latencies.
func (b *bench) warmRuns(ctx context.Context, e *localrun.Emulator, what string,
	payload func() []byte) ([]time.Duration, error) {
	var ds []time.Duration
	for range b.opts.warm {
		_, d, err := invokeOK(ctx, e, payload())
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	b.tab.add(row{
		Figure: fmt.Sprintf("warm invocation: %s (emulator → moto, %d invocations)", what,
			len(ds)),
		Value:  fmt.Sprintf("median %s, p90 %s", fmtMs(median(ds)), fmtMs(quantile(ds, 0.9))),
		Result: info,
	})
	return ds, nil
}

// largeScanRuns is the number of invocations of the large notification.
const largeScanRuns = 3

// largeScan measures scan-notifier on a scan of largeScan findings, which a
// proxy in front of moto lists in pages of findingsPage; moto receives the
// publish.
func (b *bench) largeScan(ctx context.Context, w *world) error {
	pager, err := startProxy(w.moto.URL)
	if err != nil {
		return err
	}
	defer pager.Close()
	pager.generate(largeScan)

	e, err := b.emulator(ctx, scanNotifier, pager.URL, w.topic)
	if err != nil {
		return err
	}
	defer e.Close()

	digest := "sha256:" + strings.Repeat("ab", 32)
	var ds []time.Duration
	for i := range largeScanRuns {
		pager.Reset()
		ev := scanEvent(largeRepository, digest, generatedCounts(largeScan))
		if _, d, err := invokeOK(ctx, e, ev); err != nil {
			return fmt.Errorf("notifying on a scan of %d findings: %w", largeScan, err)
		} else {
			ds = append(ds, d)
		}
		if i == 0 {
			pages := (largeScan + findingsPage - 1) / findingsPage
			calls := pager.Calls()
			b.tab.add(row{
				Figure: fmt.Sprintf("API calls: scan above the threshold, %s findings",
					fmtCount(largeScan)),
				Value:  describeCalls(calls),
				Target: fmt.Sprintf("%d pages + 1 publish", pages),
				Result: verdict(pagesAndPublish(calls, pages)),
			})
		}
	}
	b.tab.add(row{
		Figure: fmt.Sprintf("warm invocation: scan-notifier, %s findings (%d invocations)",
			fmtCount(largeScan), len(ds)),
		Value: fmt.Sprintf("median %s", fmtMs(median(ds))), Result: info,
	})
	b.rssRow(fmt.Sprintf("peak RSS: scan-notifier notifying on %s findings", fmtCount(largeScan)),
		b.native[scanNotifier])
	return nil
}

// rssRow adds the peak RSS of the process running bootstrap.
func (b *bench) rssRow(figure, bootstrap string) {
	rss, err := peakRSS(bootstrap)
	if err != nil {
		b.fail(figure, err)
		return
	}
	b.tab.add(row{Figure: figure + " (VmHWM)", Value: fmtMiB(rss), Target: "≤ 64 MiB",
		Result: verdict(rss <= maxRSS)})
}

// coldCase is one kind of cold start.
type coldCase struct {
	name     string // row label
	function string
	payload  func() []byte
	// calls says whether the invocation reaches AWS; otherwise a function
	// error is an answer like any other (a refused request).
	calls bool
}

// coldStarts times, for each case, the first invocation of a fresh emulator,
// which starts the bootstrap: process start, init, and the first answer.
// The emulator's own start is over before the clock starts, so it weighs
// the same for every bootstrap. Rounds rotate the order of the cases.
func (b *bench) coldStarts(ctx context.Context, w *world) error {
	cases := []coldCase{{name: hello, function: hello,
		payload: func() []byte { return []byte(`{"hello":"world"}`) }}}
	if b.native[ensureRepo] != "" {
		cases = append(cases,
			coldCase{name: "ensure-repo, request refused before any AWS call",
				function: ensureRepo,
				payload:  func() []byte { return ensureRequest(refusedRepository) }},
			coldCase{name: "ensure-repo, converged repository (AWS calls)", function: ensureRepo,
				payload: func() []byte { return ensureRequest(convergedRepository) }, calls: true})
	}
	if b.native[scanNotifier] != "" {
		cases = append(cases,
			coldCase{name: "scan-notifier, scan below the threshold (no AWS call)",
				function: scanNotifier,
				payload: func() []byte {
					return scanEvent(scannedRepository, w.digest, map[string]int{"LOW": 3})
				}},
			coldCase{name: "scan-notifier, scan at the threshold (AWS calls)",
				function: scanNotifier, calls: true,
				payload: func() []byte {
					return scanEvent(scannedRepository, w.digest, map[string]int{"HIGH": 1})
				}})
	}

	times := map[string][]time.Duration{}
	b.log.Info("timing cold starts", "rounds", b.opts.cold, "cases", len(cases))
	for i := range b.opts.cold {
		for _, c := range rotate(cases, i) {
			d, err := b.coldStart(ctx, w, c)
			if err != nil {
				return fmt.Errorf("timing cold start of %s: %w", c.name, err)
			}
			times[c.name] = append(times[c.name], d)
		}
	}

	base := median(times[hello])
	b.tab.add(row{
		Figure: fmt.Sprintf("cold start: hello-world, emulator → first invocation answered "+
			"(median of %d)", len(times[hello])),
		Value: fmtMs(base), Result: info,
	})
	for _, c := range cases[1:] {
		m := median(times[c.name])
		r := row{
			Figure: fmt.Sprintf("cold start: %s (median of %d)", c.name, len(times[c.name])),
			Value:  fmt.Sprintf("%s (%s)", fmtMs(m), fmtSignedMs(m-base)),
			Ratio:  fmtRatio(float64(m)/float64(base)) + " hello-world",
			Result: info,
		}
		if !c.calls {
			r.Target = "adds ≤ 15 ms"
			r.Result = verdict(m-base <= coldTarget)
		}
		if c.calls && c.function == ensureRepo {
			b.coldEnsureReal = m
		}
		b.tab.add(r)
	}
	return nil
}

// coldStart starts an emulator for c, times its first invocation and stops
// it.
func (b *bench) coldStart(ctx context.Context, w *world, c coldCase) (time.Duration, error) {
	e, err := b.emulator(ctx, c.function, w.calls.URL, w.topic)
	if err != nil {
		return 0, err
	}
	defer e.Close()
	body, d, err := invoke(ctx, e, c.payload())
	var fe *localrun.FunctionError
	if err != nil && (c.calls || !errors.As(err, &fe)) {
		return 0, fmt.Errorf("%w: %s; function logs: %s", err, body, tailBytes(e.Logs(), 1500))
	}
	return d, nil
}

// describeCalls formats calls as their number and the operations with their
// counts, e.g. "3: ECR.DescribeRepositories, SSM.GetParameter ×2".
func describeCalls(calls []string) string {
	if len(calls) == 0 {
		return "0"
	}
	var order []string
	n := map[string]int{}
	for _, c := range calls {
		if n[c] == 0 {
			order = append(order, c)
		}
		n[c]++
	}
	parts := make([]string, len(order))
	for i, c := range order {
		parts[i] = c
		if n[c] > 1 {
			parts[i] += fmt.Sprintf(" ×%d", n[c])
		}
	}
	return fmt.Sprintf("%d: %s", len(calls), strings.Join(parts, ", "))
}

// readPrefixes start the names of operations that only read.
var readPrefixes = []string{"Describe", "Get", "List", "BatchGet", "BatchCheck"}

// classify counts the calls that read and the ones that write.
func classify(calls []string) (reads, writes int) {
	for _, c := range calls {
		_, op, _ := strings.Cut(c, ".")
		read := false
		for _, p := range readPrefixes {
			if strings.HasPrefix(op, p) {
				read = true
				break
			}
		}
		if read {
			reads++
		} else {
			writes++
		}
	}
	return reads, writes
}

// pagesAndPublish reports whether calls are exactly pages findings pages and
// one publish.
func pagesAndPublish(calls []string, pages int) bool {
	n := map[string]int{}
	for _, c := range calls {
		n[c]++
	}
	return len(calls) == pages+1 && n["ECR.DescribeImageScanFindings"] == pages &&
		n["SNS.Publish"] == 1
}

// resultURI returns the repositoryUri of an ensure-repo self-service result.
func resultURI(body []byte) string {
	var r struct {
		URI string `json:"repositoryUri"`
	}
	_ = json.Unmarshal(body, &r)
	return r.URI
}
