package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

func TestQuantile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		xs   []time.Duration
		q    float64
		want time.Duration
	}{
		{name: "none", xs: nil, q: 0.5, want: 0},
		{name: "one", xs: ms(7), q: 0.5, want: 7 * time.Millisecond},
		{name: "odd median", xs: ms(9, 1, 5), q: 0.5, want: 5 * time.Millisecond},
		{name: "even median", xs: ms(4, 1, 3, 2), q: 0.5, want: 2500 * time.Microsecond},
		{name: "p90 interpolated", xs: ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), q: 0.9,
			want: 9100 * time.Microsecond},
		{name: "max", xs: ms(3, 1, 2), q: 1, want: 3 * time.Millisecond},
		{name: "min", xs: ms(3, 1, 2), q: 0, want: time.Millisecond},
		{name: "q clamped", xs: ms(3, 1, 2), q: 1.5, want: 3 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.xs)
			if got := quantile(tt.xs, tt.q); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if !slices.Equal(in, tt.xs) {
				t.Errorf("got input changed to %v, want %v", tt.xs, in)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	if got, want := median([]time.Duration{3, 1, 2}), time.Duration(2); got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	tests := []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{5}, 5},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := medianFloat(tt.xs); got != tt.want {
			t.Errorf("medianFloat(%v): got %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestParseInitTrace(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    initTrace
		wantErr string
	}{
		{
			name: "lines among other output",
			in: "init internal/bytealg @0.004 ms, 0 ms clock, 0 bytes, 0 allocs\n" +
				"init runtime @0.031 ms, 0.048 ms clock, 0 bytes, 0 allocs\n" +
				`{"level":"INFO","msg":"starting"}` + "\n" +
				"init net/http @1.2 ms, 0.41 ms clock, 81920 bytes, 712 allocs\n" +
				"init github.com/aws/aws-sdk-go-v2/service/ssm/schemas @2.0 ms, 1.5 ms clock, " +
				"2097152 bytes, 30000 allocs\n" +
				"initialised something else\n",
			want: initTrace{Packages: 4, Clock: 0.048 + 0.41 + 1.5, Bytes: 81920 + 2097152,
				Allocs: 712 + 30000, Slowest: "github.com/aws/aws-sdk-go-v2/service/ssm/schemas",
				Max: 1.5},
		},
		{name: "no trace", in: "hello\n", wantErr: "no init lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseInitTrace(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got.Packages != tt.want.Packages || got.Bytes != tt.want.Bytes ||
				got.Allocs != tt.want.Allocs || got.Slowest != tt.want.Slowest ||
				got.Max != tt.want.Max || !near(got.Clock, tt.want.Clock) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// near reports whether a and b are equal but for rounding.
func near(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}

func TestMedianTrace(t *testing.T) {
	ts := []initTrace{{Clock: 3, Slowest: "c"}, {Clock: 1, Slowest: "a"}, {Clock: 2, Slowest: "b"}}
	if got := medianTrace(ts); got.Slowest != "b" {
		t.Errorf("got %+v, want the trace of clock 2", got)
	}
	if got := medianTrace(nil); got != (initTrace{}) {
		t.Errorf("got %+v, want the zero trace", got)
	}
}

func TestParseBenchOutput(t *testing.T) {
	const out = `goos: linux
goarch: amd64
pkg: github.com/ecr-stack/ecr-stack/internal/alert
cpu: Intel(R) Xeon(R) Processor
BenchmarkRender/findings=10-2         	   26000	     46200 ns/op	   18534 B/op	     185 allocs/op
BenchmarkRender/findings=10-2         	   25000	     47200 ns/op	   18534 B/op	     185 allocs/op
BenchmarkRender/findings=10000-2      	    1000	    118300 ns/op	   33075 B/op	     328 allocs/op
PASS
ok  	github.com/ecr-stack/ecr-stack/internal/alert	3.1s
pkg: github.com/ecr-stack/ecr-stack/internal/scan
BenchmarkParse/kind=basic-2 	50000	23900 ns/op	40.51 MB/s	8192 B/op	149 allocs/op
BenchmarkParse/kind=basic 	50000	24100 ns/op	40.00 MB/s	8192 B/op	149 allocs/op
--- FAIL: BenchmarkBroken
Benchmark output that is not a result
PASS
`
	got, err := parseBenchOutput(strings.NewReader(out))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	want := []benchResult{
		{Package: "github.com/ecr-stack/ecr-stack/internal/alert", Name: "BenchmarkRender/findings=10",
			NsPerOp: []float64{46200, 47200}, BytesPerOp: []float64{18534, 18534},
			AllocsPerOp: []float64{185, 185}},
		{Package: "github.com/ecr-stack/ecr-stack/internal/alert",
			Name: "BenchmarkRender/findings=10000", NsPerOp: []float64{118300},
			BytesPerOp: []float64{33075}, AllocsPerOp: []float64{328}},
		{Package: "github.com/ecr-stack/ecr-stack/internal/scan", Name: "BenchmarkParse/kind=basic",
			NsPerOp: []float64{23900, 24100}, BytesPerOp: []float64{8192, 8192},
			AllocsPerOp: []float64{149, 149}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d results %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Package != w.Package || g.Name != w.Name || !slices.Equal(g.NsPerOp, w.NsPerOp) ||
			!slices.Equal(g.BytesPerOp, w.BytesPerOp) || !slices.Equal(g.AllocsPerOp, w.AllocsPerOp) {
			t.Errorf("result %d: got %+v, want %+v", i, g, w)
		}
	}
	if got, want := got[0].Short(), "alert.Render/findings=10"; got != want {
		t.Errorf("got short name %q, want %q", got, want)
	}
}

func TestBenchmarkPackages(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"internal/a/a_test.go":             "package a\n\nfunc BenchmarkX(b *testing.B) {}\n",
		"internal/a/more_test.go":          "package a\n\nfunc BenchmarkY(b *testing.B) {}\n",
		"internal/b/b_test.go":             "package b\n\nfunc TestX(t *testing.T) {}\n",
		"internal/c/d/d_test.go":           "package d\n\nfunc BenchmarkZ(b *testing.B) {}\n",
		"internal/c/testdata/x/x_test.go":  "package x\n\nfunc BenchmarkW(b *testing.B) {}\n",
		"internal/cmd/bench/bench_test.go": "package main\n\nfunc BenchmarkV(b *testing.B) {}\n",
		"internal/e/e.go":                  "package e\n\nfunc BenchmarkNotATest() {}\n",
	}
	for name, src := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := benchmarkPackages(filepath.Join(root, "internal"))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if want := []string{"./internal/a", "./internal/c/d"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWriteMarkdown(t *testing.T) {
	var tab table
	tab.add(
		row{Figure: "size: a", Value: "1.00 MiB", Target: "≤ 10 MiB", Result: pass, Ratio: "2.00×"},
		row{Figure: "calls | pipes", Value: "line\nbreak", Result: info},
	)
	tab.note("Machine: %s.", "test")
	var b strings.Builder
	if err := tab.writeMarkdown(&b); err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	want := "" +
		"| Figure         | Value      | Target   | Result | Ratio |\n" +
		"|----------------|------------|----------|--------|-------|\n" +
		"| size: a        | 1.00 MiB   | ≤ 10 MiB | pass   | 2.00× |\n" +
		"| calls \\| pipes | line break |          | info   |       |\n" +
		"\n" +
		"- Machine: test.\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMisses(t *testing.T) {
	var tab table
	tab.add(row{Figure: "a", Result: pass}, row{Figure: "b", Result: miss},
		row{Figure: "c", Result: info}, row{Figure: "d", Result: failed},
		row{Figure: "e", Result: skipped})
	var got []string
	for _, r := range tab.misses() {
		got = append(got, r.Figure)
	}
	if want := []string{"b", "d"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{fmtMs(84 * time.Microsecond), "0.084 ms"},
		{fmtMs(3410 * time.Microsecond), "3.41 ms"},
		{fmtMs(18240 * time.Microsecond), "18.2 ms"},
		{fmtMs(1234 * time.Millisecond), "1234 ms"},
		{fmtSignedMs(4120 * time.Microsecond), "+4.12 ms"},
		{fmtSignedMs(-4120 * time.Microsecond), "-4.12 ms"},
		{fmtMiB(10 * MiB), "10.00 MiB"},
		{fmtRatio(1.416), "1.42×"},
		{fmtRatio(46.34), "46.3×"},
		{fmtRatio(187.4), "187×"},
		{fmtCount(0), "0"},
		{fmtCount(999), "999"},
		{fmtCount(10000), "10,000"},
		{fmtCount(-1234567), "-1,234,567"},
		{fmtNs(850), "850 ns"},
		{fmtNs(12345), "12.3 µs"},
		{fmtNs(4.21e6), "4.21 ms"},
		{fmtBytes(512), "512 B"},
		{fmtBytes(12.4 * 1024), "12.4 KiB"},
		{fmtBytes(4.51 * MiB), "4.51 MiB"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestRotate(t *testing.T) {
	xs := []string{"a", "b", "c"}
	tests := []struct {
		i    int
		want []string
	}{
		{0, []string{"a", "b", "c"}},
		{1, []string{"b", "c", "a"}},
		{5, []string{"c", "a", "b"}},
	}
	for _, tt := range tests {
		if got := rotate(xs, tt.i); !slices.Equal(got, tt.want) {
			t.Errorf("rotate(%d): got %q, want %q", tt.i, got, tt.want)
		}
	}
	if got := rotate([]string(nil), 3); got != nil {
		t.Errorf("got %q, want nil", got)
	}
}

func TestCalls(t *testing.T) {
	calls := []string{"SSM.GetParameter", "ECR.DescribeRepositories", "SSM.GetParameter",
		"SSM.PutParameter", "ECR.BatchGetImage"}
	want := "5: SSM.GetParameter ×2, ECR.DescribeRepositories, SSM.PutParameter, " +
		"ECR.BatchGetImage"
	if got := describeCalls(calls); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := describeCalls(nil), "0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if reads, writes := classify(calls); reads != 4 || writes != 1 {
		t.Errorf("got %d reads and %d writes, want 4 and 1", reads, writes)
	}

	tests := []struct {
		name  string
		calls []string
		pages int
		want  bool
	}{
		{"exact", []string{"ECR.DescribeImageScanFindings", "SNS.Publish"}, 1, true},
		{"pages", []string{"ECR.DescribeImageScanFindings", "ECR.DescribeImageScanFindings",
			"SNS.Publish"}, 2, true},
		{"two publishes", []string{"ECR.DescribeImageScanFindings", "SNS.Publish", "SNS.Publish"},
			1, false},
		{"extra call", []string{"ECR.DescribeImageScanFindings", "SNS.Publish", "STS.GetCallerIdentity"},
			1, false},
		{"no publish", []string{"ECR.DescribeImageScanFindings"}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pagesAndPublish(tt.calls, tt.pages); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGeneratedFindings(t *testing.T) {
	const total = 2500
	p, err := startProxy("")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.generate(total)

	client := ecr.NewFromConfig(localrun.EndpointConfig(p.URL))
	pages := ecr.NewDescribeImageScanFindingsPaginator(client, &ecr.DescribeImageScanFindingsInput{
		RepositoryName: aws.String("team/app"),
		ImageId:        &ecrtypes.ImageIdentifier{ImageDigest: aws.String("sha256:ab")},
		MaxResults:     aws.Int32(findingsPage),
	})
	var (
		n, pageCount int
		seen         = map[string]bool{}
		perSeverity  = map[string]int{}
	)
	for pages.HasMorePages() {
		out, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		pageCount++
		if got := string(out.ImageScanStatus.Status); got != "COMPLETE" {
			t.Errorf("got status %q, want COMPLETE", got)
		}
		if got := out.ImageScanFindings.FindingSeverityCounts; got["CRITICAL"] != total/5 {
			t.Errorf("got counts %v, want %d CRITICAL", got, total/5)
		}
		for _, f := range out.ImageScanFindings.Findings {
			n++
			seen[aws.ToString(f.Name)] = true
			perSeverity[string(f.Severity)]++
			if len(f.Attributes) != 4 {
				t.Fatalf("got attributes %+v, want 4", f.Attributes)
			}
		}
	}
	if n != total || len(seen) != total || pageCount != 3 {
		t.Errorf("got %d findings (%d distinct) in %d pages, want %d in 3", n, len(seen), pageCount,
			total)
	}
	for sev, want := range generatedCounts(total) {
		if perSeverity[sev] != want {
			t.Errorf("got %d %s findings, want %d as counted", perSeverity[sev], sev, want)
		}
	}
	if got := p.Calls(); len(got) != 3 || got[0] != "ECR.DescribeImageScanFindings" {
		t.Errorf("got calls %q, want 3 of ECR.DescribeImageScanFindings", got)
	}

	p.Reset()
	if got := p.Calls(); len(got) != 0 {
		t.Errorf("got calls %q after Reset, want none", got)
	}
}

func TestGeneratedCounts(t *testing.T) {
	tests := []struct {
		total int
		want  map[string]int
	}{
		{10000, map[string]int{"CRITICAL": 2000, "HIGH": 2000, "MEDIUM": 2000, "LOW": 2000,
			"INFORMATIONAL": 2000}},
		{7, map[string]int{"CRITICAL": 2, "HIGH": 2, "MEDIUM": 1, "LOW": 1, "INFORMATIONAL": 1}},
		{2, map[string]int{"CRITICAL": 1, "HIGH": 1}},
	}
	for _, tt := range tests {
		got := generatedCounts(tt.total)
		if len(got) != len(tt.want) {
			t.Errorf("generatedCounts(%d): got %v, want %v", tt.total, got, tt.want)
			continue
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("generatedCounts(%d): got %v, want %v", tt.total, got, tt.want)
			}
		}
	}
}

func TestZipBootstrap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "main")
	content := bytes.Repeat([]byte("bootstrap "), 10000)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	archive, err := zipBootstrap(path)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if n := len(archive); n == 0 || n >= len(content) {
		t.Errorf("got %d bytes, want fewer than %d and more than 0", n, len(content))
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatalf("reading archive: %v", err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("got %d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" || f.Mode().Perm() != 0o755 || f.Method != zip.Deflate {
		t.Errorf("got %s %v method %d, want bootstrap -rwxr-xr-x deflate", f.Name, f.Mode(),
			f.Method)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("got %d bytes back (error %v), want the %d bytes zipped", len(got), err,
			len(content))
	}
	if n, err := zipSize(path); err != nil || n != int64(len(archive)) {
		t.Errorf("got size %d, %v, want %d", n, err, len(archive))
	}
}

func TestStatusField(t *testing.T) {
	status := []byte("Name:\tbootstrap\nVmPeak:\t  800000 kB\nVmHWM:\t   12345 kB\nThreads:\t5\n")
	tests := []struct {
		field   string
		want    int64
		wantErr bool
	}{
		{"VmHWM", 12345, false},
		{"VmPeak", 800000, false},
		{"Threads", 0, true},
		{"VmRSS", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			got, err := statusField(status, tt.field)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %d, %v, want %d (error: %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestWithoutAWS(t *testing.T) {
	got := withoutAWS([]string{"PATH=/bin", "AWS_PROFILE=x", "HOME=/root", "AWS_REGION=y"})
	if want := []string{"PATH=/bin", "HOME=/root"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
