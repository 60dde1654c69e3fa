package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

// fakeBootstrapEnv makes the test binary act as a bootstrap: see TestMain.
const fakeBootstrapEnv = "BENCH_TEST_FAKE_BOOTSTRAP"

// TestMain lets the test binary stand in for a bootstrap when
// BENCH_TEST_FAKE_BOOTSTRAP is set: "next" prints a line and asks the runtime
// API for an event, "exit" prints a line and exits at once.
func TestMain(m *testing.M) {
	switch os.Getenv(fakeBootstrapEnv) {
	case "next":
		fmt.Fprintln(os.Stderr, "init fake @0.1 ms, 0.2 ms clock, 100 bytes, 1 allocs")
		resp, err := http.Get("http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") +
			"/2018-06-01/runtime/invocation/next")
		if err == nil {
			resp.Body.Close()
		}
		os.Exit(0)
	case "exit":
		fmt.Fprintln(os.Stderr, "no runtime here")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func TestRunUntilReady(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		mode       string
		wantOutput string
		wantErr    string
	}{
		{name: "asks for an event", mode: "next", wantOutput: "init fake"},
		{name: "exits early", mode: "exit", wantErr: "exited before asking for an event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := runUntilReady(context.Background(), exe, []string{fakeBootstrapEnv + "=" + tt.mode}, 0)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if r.Ready <= 0 {
				t.Errorf("got ready after %v, want a positive time", r.Ready)
			}
			if !strings.Contains(string(r.Output), tt.wantOutput) {
				t.Errorf("got output %q, want it to contain %q", r.Output, tt.wantOutput)
			}
		})
	}
}

func TestPeakRSS(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rss, err := peakRSS(exe)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if rss <= 0 {
		t.Errorf("got %d bytes, want more than 0", rss)
	}
}
