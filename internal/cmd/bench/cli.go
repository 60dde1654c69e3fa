package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ensureScript is the AWS CLI way of ensuring a repository and storing its
// URI, as deployment scripts do it today.
//
//go:embed testdata/ensure.sh
var ensureScript []byte

// cliTarget is how many times faster than the CLI script a warm converged
// ensure must be.
const cliTarget = 20

// cli times the AWS CLI script on the repository ensure-repo converged, in
// the same moto, and compares it with ensure-repo's warm and cold
// invocations.
func (b *bench) cli(ctx context.Context, w *world) error {
	const figure = "AWS CLI script vs ensure-repo, converged repository"
	aws, err := exec.LookPath("aws")
	if err != nil {
		b.tab.add(row{Figure: figure, Value: "skipped: aws CLI not installed (pip install awscli)",
			Target: fmt.Sprintf("≥ %d×", cliTarget), Result: skipped})
		return nil
	}
	script := filepath.Join(b.work, "ensure.sh")
	if err := os.WriteFile(script, ensureScript, 0o755); err != nil {
		return fmt.Errorf("writing CLI script: %w", err)
	}
	version, _ := exec.CommandContext(ctx, aws, "--version").CombinedOutput()

	env := append(withoutAWS(os.Environ()), awsEnv(w.calls.URL)...)
	missing := filepath.Join(b.work, "no-such-file")
	env = append(env, "AWS_CONFIG_FILE="+missing, "AWS_SHARED_CREDENTIALS_FILE="+missing,
		"AWS_PAGER=")
	runScript := func(repository string) (string, time.Duration, error) {
		parameter := parameterPrefix + "/" + repository + "/uri"
		cmd := inGroup(exec.CommandContext(ctx, "bash", script, repository, parameter))
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		d := time.Since(start)
		if err != nil {
			return "", d, fmt.Errorf("running CLI script for %q: %w: %s", repository, err,
				tailBytes(stderr.Bytes(), 1000))
		}
		return strings.TrimSpace(stdout.String()), d, nil
	}

	b.log.Info("timing AWS CLI script", "runs", b.opts.cli, "cli", strings.TrimSpace(string(version)))
	var ds []time.Duration
	var calls []string
	for i := range b.opts.cli {
		w.calls.Reset()
		uri, d, err := runScript(convergedRepository)
		if err != nil {
			return err
		}
		if i == 0 {
			calls = w.calls.Calls()
			if b.ensureURI != "" && uri != b.ensureURI {
				b.tab.note("The CLI script read URI %q; ensure-repo reported %q.", uri, b.ensureURI)
			}
		}
		ds = append(ds, d)
	}
	cliMedian := median(ds)
	b.tab.add(row{
		Figure: fmt.Sprintf("AWS CLI script: ensure of the converged repository (median of %d)",
			len(ds)),
		Value: fmtMs(cliMedian) + " · calls " + describeCalls(calls), Result: info,
	})

	w.calls.Reset()
	_, dNew, err := runScript(cliNewRepository)
	if err != nil {
		return err
	}
	b.tab.add(row{
		Figure: "AWS CLI script: ensure of a new repository (one run)",
		Value:  fmtMs(dNew) + " · calls " + describeCalls(w.calls.Calls()), Result: info,
	})

	if b.warmEnsure > 0 {
		ratio := float64(cliMedian) / float64(b.warmEnsure)
		b.tab.add(row{
			Figure: figure + ", warm invocation (headline)",
			Value:  fmt.Sprintf("%s vs %s", fmtMs(cliMedian), fmtMs(b.warmEnsure)),
			Target: fmt.Sprintf("≥ %d×", cliTarget), Result: verdict(ratio >= cliTarget),
			Ratio: fmtRatio(ratio) + " faster",
		})
	}
	if b.coldEnsureReal > 0 {
		ratio := float64(cliMedian) / float64(b.coldEnsureReal)
		b.tab.add(row{
			Figure: figure + ", cold invocation",
			Value:  fmt.Sprintf("%s vs %s", fmtMs(cliMedian), fmtMs(b.coldEnsureReal)),
			Result: info, Ratio: fmtRatio(ratio) + " faster",
		})
	}
	b.tab.note("CLI: %s, one process per call, through the same counting proxy as the "+
		"functions.", strings.TrimSpace(string(version)))
	return nil
}
