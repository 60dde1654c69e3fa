package localrun

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hello is the bootstrap of testdata/hello, built once for the tests.
var hello struct {
	once sync.Once
	path string
	err  error
}

// helloBootstrap returns the path of the testdata/hello bootstrap.
func helloBootstrap(t *testing.T) string {
	t.Helper()
	hello.once.Do(func() {
		dir, err := os.MkdirTemp("", "localrun-test-")
		if err != nil {
			hello.err = err
			return
		}
		out := filepath.Join(dir, "hello", "bootstrap")
		const pkg = "./internal/localrun/testdata/hello"
		hello.path, hello.err = BuildPackage(context.Background(), pkg, out)
	})
	if hello.err != nil {
		t.Fatalf("building hello: %v", hello.err)
	}
	return hello.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if hello.path != "" {
		os.RemoveAll(filepath.Dir(filepath.Dir(hello.path)))
	}
	os.Exit(code)
}

func TestStartMoto(t *testing.T) {
	m, err := StartMoto(context.Background())
	if err != nil {
		t.Fatalf("StartMoto: %v", err)
	}
	if !strings.HasPrefix(m.URL, "http://127.0.0.1:") {
		t.Errorf("got URL %q, want http://127.0.0.1:PORT", m.URL)
	}

	resp, err := http.Get(m.URL + "/moto-api/data.json")
	if err != nil {
		t.Fatalf("GET moto: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("got status %d, want 200", resp.StatusCode)
	}

	if err := m.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(m.URL); err == nil {
		t.Errorf("got an answer after Close, want a refused connection")
	}
	if len(m.Output()) == 0 {
		t.Errorf("got no output, want moto's request log")
	}
}

func TestStartMotoNotFound(t *testing.T) {
	t.Setenv("PATH", t.TempDir())

	_, err := StartMoto(context.Background())
	if !errors.Is(err, ErrMotoNotFound) {
		t.Fatalf("got error %v, want ErrMotoNotFound", err)
	}
	want := `moto_server not found: install it with pip install "moto[server]"`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("got error %q, want it to contain %q", err, want)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatalf("ModuleRoot: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("got root %q without go.mod: %v", root, err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "localrun")); err != nil {
		t.Errorf("got root %q, want the module holding internal/localrun", root)
	}
}

func TestBuild(t *testing.T) {
	mod := t.TempDir()
	files := map[string]string{
		"go.mod":                  "module example.com/hello\n\ngo 1.24\n",
		"functions/hello/main.go": "package main\n\nfunc main() { println(\"hello\") }\n",
	}
	for name, body := range files {
		path := filepath.Join(mod, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Build finds the module root by walking up from the working directory.
	t.Chdir(filepath.Join(mod, "functions"))
	outDir := t.TempDir()

	tests := []struct {
		function string
		wantErr  string
	}{
		{function: "hello"},
		{function: "missing", wantErr: `building "./functions/missing"`},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			got, err := Build(context.Background(), tt.function, outDir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if want := filepath.Join(outDir, tt.function, "bootstrap"); got != want {
				t.Errorf("got path %q, want %q", got, want)
			}
			f, err := elf.Open(got)
			if err != nil {
				t.Fatalf("reading the bootstrap as ELF: %v", err)
			}
			defer f.Close()
			want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
			if m, ok := want[runtime.GOARCH]; ok && f.Machine != m {
				t.Errorf("got machine %v, want %v", f.Machine, m)
			}
			if f.Section(".symtab") != nil {
				t.Errorf("got a symbol table, want a stripped binary")
			}
		})
	}
}

// helloResponse is what testdata/hello answers.
type helloResponse struct {
	Echo        json.RawMessage   `json:"echo"`
	Env         map[string]string `json:"env"`
	HasDeadline bool              `json:"hasDeadline"`
	Pid         int               `json:"pid"`
}

func TestEmulatorInvoke(t *testing.T) {
	e, err := StartEmulator(context.Background(), EmulatorConfig{
		Bootstrap: helloBootstrap(t),
		Env:       []string{"GREETING=hi", "AWS_REGION=eu-west-1"},
		Timeout:   1500 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("StartEmulator: %v", err)
	}
	t.Cleanup(func() { e.Close() })

	tests := []struct {
		name     string
		payload  string
		wantBody string // substring of the body
		wantErr  *FunctionError
		wantEnv  map[string]string
	}{
		{
			name:     "echo",
			payload:  `{"echo":{"a":1}}`,
			wantBody: `"echo":{"a":1}`,
		},
		{
			name: "environment",
			payload: `{"env":["GREETING","AWS_REGION","AWS_LAMBDA_FUNCTION_NAME",` +
				`"AWS_LAMBDA_FUNCTION_TIMEOUT","AWS_LAMBDA_FUNCTION_MEMORY_SIZE",` +
				`"AWS_LAMBDA_LOG_FORMAT","HOME"]}`,
			wantEnv: map[string]string{
				"GREETING":                        "hi",
				"AWS_REGION":                      "eu-west-1",
				"AWS_LAMBDA_FUNCTION_NAME":        "hello",
				"AWS_LAMBDA_FUNCTION_TIMEOUT":     "2",
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
				"AWS_LAMBDA_LOG_FORMAT":           "JSON",
				"HOME":                            "",
			},
		},
		{
			name:     "returned error",
			payload:  `{"error":"boom"}`,
			wantBody: `"errorMessage":"boom"`,
			wantErr:  &FunctionError{Type: "errorString", Message: "boom"},
		},
		{
			name:     "panic",
			payload:  `{"panic":"oops"}`,
			wantBody: `"errorMessage":"oops"`,
			wantErr:  &FunctionError{Type: "string", Message: "oops"},
		},
		{
			name:     "timeout",
			payload:  `{"sleep":"10s"}`,
			wantBody: "Task timed out after 2.00 seconds",
			wantErr:  &FunctionError{Type: "Sandbox.Timedout", Message: "Task timed out after 2.00 seconds"},
		},
		{
			name:     "after a timeout",
			payload:  `{"echo":"again"}`,
			wantBody: `"echo":"again"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := e.Invoke(context.Background(), []byte(tt.payload))
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("got body %s, want it to contain %s", body, tt.wantBody)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
			} else {
				var fe *FunctionError
				if !errors.As(err, &fe) {
					t.Fatalf("got error %v, want a *FunctionError", err)
				}
				if *fe != *tt.wantErr {
					t.Errorf("got %+v, want %+v", *fe, *tt.wantErr)
				}
			}
			if tt.wantEnv != nil {
				var resp helloResponse
				if err := json.Unmarshal(body, &resp); err != nil {
					t.Fatalf("decoding %s: %v", body, err)
				}
				for k, want := range tt.wantEnv {
					if got := resp.Env[k]; got != want {
						t.Errorf("got %s=%q, want %q", k, got, want)
					}
				}
				if !resp.HasDeadline {
					t.Errorf("got no deadline in the function's context, want one")
				}
			}
		})
	}
}

func TestEmulatorLogs(t *testing.T) {
	e, err := StartEmulator(context.Background(), EmulatorConfig{Bootstrap: helloBootstrap(t)})
	if err != nil {
		t.Fatalf("StartEmulator: %v", err)
	}
	t.Cleanup(func() { e.Close() })

	if _, err := e.Invoke(context.Background(), []byte(`{"log":"a line worth reading"}`)); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var found bool
	for line := range strings.SplitSeq(string(e.Logs()), "\n") {
		var rec struct{ Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "a line worth reading" {
			found = true
		}
	}
	if !found {
		t.Errorf("got logs %s, want a JSON line with msg \"a line worth reading\"", e.Logs())
	}
}

func TestEmulatorConcurrentInvoke(t *testing.T) {
	e, err := StartEmulator(context.Background(), EmulatorConfig{Bootstrap: helloBootstrap(t)})
	if err != nil {
		t.Fatalf("StartEmulator: %v", err)
	}
	t.Cleanup(func() { e.Close() })

	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			payload := `{"echo":` + strconv.Itoa(i) + `,"sleep":"20ms"}`
			body, err := e.Invoke(context.Background(), []byte(payload))
			if err == nil && !strings.Contains(string(body), `"echo":`+strconv.Itoa(i)) {
				err = errors.New("unexpected body " + string(body))
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Invoke: %v", err)
		}
	}
}

func TestEmulatorInvokeGivesUp(t *testing.T) {
	e, err := StartEmulator(context.Background(), EmulatorConfig{Bootstrap: helloBootstrap(t)})
	if err != nil {
		t.Fatalf("StartEmulator: %v", err)
	}
	t.Cleanup(func() { e.Close() })

	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = e.Invoke(short, []byte(`{"sleep":"500ms"}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	// The emulator still runs the first invocation; this one waits for it.
	body, err := e.Invoke(context.Background(), []byte(`{"echo":"next"}`))
	if err != nil {
		t.Fatalf("Invoke after giving up: %v", err)
	}
	if !strings.Contains(string(body), `"echo":"next"`) {
		t.Errorf("got %s, want the echo of the second invocation", body)
	}
}

// invokedHello starts the emulator on testdata/hello and invokes it once. It
// returns the emulator, which the test closes, and the answer.
func invokedHello(t *testing.T) (*Emulator, helloResponse) {
	t.Helper()
	e, err := StartEmulator(context.Background(), EmulatorConfig{Bootstrap: helloBootstrap(t)})
	if err != nil {
		t.Fatalf("StartEmulator: %v", err)
	}
	body, err := e.Invoke(context.Background(), []byte(`{}`))
	if err != nil {
		e.Close()
		t.Fatalf("Invoke: %v", err)
	}
	var resp helloResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		e.Close()
		t.Fatalf("decoding %s: %v", body, err)
	}
	return e, resp
}

func TestEmulatorClose(t *testing.T) {
	e, resp := invokedHello(t)

	if err := e.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := e.Invoke(context.Background(), []byte(`{}`)); err == nil {
		t.Errorf("got an answer after Close, want an error")
	}
	// The bootstrap is gone, or a zombie waiting for init to reap it.
	deadline := time.Now().Add(10 * time.Second)
	for alive(resp.Pid) {
		if time.Now().After(deadline) {
			t.Fatalf("bootstrap %d still runs after Close", resp.Pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEmulatorCloseOrder checks that Close kills the bootstrap before the
// emulator, while the emulator is frozen, and that the logs end with the
// invocation: the bootstrap never sees its Runtime API go, which it would
// report as a failure to get the next invocation.
func TestEmulatorCloseOrder(t *testing.T) {
	e, resp := invokedHello(t)
	// The emulator writes the REPORT line just after answering.
	deadline := time.Now().Add(10 * time.Second)
	for !bytes.Contains(e.Logs(), []byte("REPORT RequestId:")) {
		if time.Now().After(deadline) {
			e.Close()
			t.Fatalf("got logs %q, want a REPORT line", e.Logs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	type sent struct {
		pid int
		sig syscall.Signal
	}
	var got []sent
	e.proc.signal = func(pid int, sig syscall.Signal) error {
		got = append(got, sent{pid, sig})
		return syscall.Kill(pid, sig)
	}

	if err := e.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	emulator, bootstrap := e.proc.cmd.Process.Pid, resp.Pid
	want := []sent{{-emulator, syscall.SIGSTOP}, {-bootstrap, syscall.SIGKILL},
		{bootstrap, syscall.SIGKILL}, {-emulator, syscall.SIGKILL}}
	if !slices.Equal(got, want) {
		t.Errorf("got signals %v, want %v (emulator %d, bootstrap %d)", got, want, emulator,
			bootstrap)
	}
	logs := string(e.Logs())
	if _, after, _ := strings.Cut(logs, "REPORT RequestId:"); strings.Count(after, "\n") > 1 {
		t.Errorf("got logs %q, want them to end with the REPORT line", logs)
	}
}

// alive reports whether pid is a process that has not exited.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func TestStartEmulatorErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     EmulatorConfig
		setenv  map[string]string
		wantErr string
	}{
		{
			name:    "missing bootstrap",
			cfg:     EmulatorConfig{Bootstrap: filepath.Join(t.TempDir(), "bootstrap")},
			wantErr: "no such file",
		},
		{
			name:    "missing RIE_BINARY",
			cfg:     EmulatorConfig{Bootstrap: os.Args[0]},
			setenv:  map[string]string{"RIE_BINARY": filepath.Join(t.TempDir(), "rie")},
			wantErr: "finding emulator from RIE_BINARY",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.setenv {
				t.Setenv(k, v)
			}
			e, err := StartEmulator(context.Background(), tt.cfg)
			if err == nil {
				e.Close()
				t.Fatalf("got no error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestFunctionError(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *FunctionError
	}{
		{name: "result", body: `{"ok":true}`},
		{name: "string result", body: `"done"`},
		{name: "empty", body: ``},
		{name: "null", body: `null`},
		{name: "message only", body: `{"errorMessage":"m"}`, want: &FunctionError{Message: "m"}},
		{
			name: "error",
			body: `{"errorMessage":"m","errorType":"T","stackTrace":[]}`,
			want: &FunctionError{Type: "T", Message: "m"},
		},
		{
			name: "timeout",
			body: "Task timed out after 3.00 seconds",
			want: &FunctionError{Type: "Sandbox.Timedout", Message: "Task timed out after 3.00 seconds"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := functionError([]byte(tt.body))
			switch {
			case got == nil && tt.want == nil:
			case got == nil || tt.want == nil:
				t.Errorf("got %v, want %v", got, tt.want)
			case *got != *tt.want:
				t.Errorf("got %+v, want %+v", *got, *tt.want)
			}
		})
	}
}

func TestEmulatorEnv(t *testing.T) {
	tests := []struct {
		name string
		cfg  EmulatorConfig
		want []string
	}{
		{
			name: "defaults",
			cfg:  EmulatorConfig{Bootstrap: "/x/fn/bootstrap"},
			want: []string{
				"AWS_LAMBDA_FUNCTION_NAME=fn", "AWS_LAMBDA_FUNCTION_TIMEOUT=30",
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "AWS_REGION=us-east-1",
				"AWS_LAMBDA_LOG_FORMAT=JSON", "LAMBDA_TASK_ROOT=/x/fn",
			},
		},
		{
			name: "set",
			cfg: EmulatorConfig{
				Bootstrap: "/x/fn/bootstrap", Name: "named", Timeout: 2100 * time.Millisecond,
				MemoryMB: 512, Region: "eu-west-1", Env: []string{"A=B"},
			},
			want: []string{
				"AWS_LAMBDA_FUNCTION_NAME=named", "AWS_LAMBDA_FUNCTION_TIMEOUT=3",
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_REGION=eu-west-1",
				"AWS_DEFAULT_REGION=eu-west-1", "A=B",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := emulatorEnv(tt.cfg)
			set := make(map[string]bool, len(got))
			for _, kv := range got {
				set[kv] = true
			}
			for _, kv := range tt.want {
				if !set[kv] {
					t.Errorf("got env %q, want it to hold %q", got, kv)
				}
			}
		})
	}
}
