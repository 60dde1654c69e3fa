// Command invoke runs one event through a function's bootstrap under the
// Lambda Runtime Interface Emulator, with the caller's AWS credentials: what
// `sam local invoke` does, without Docker.
//
// Usage, from the module root:
//
//	make invoke FUNCTION=ensure-repo EVENT=events/ensure-repo-self-service.json
//	go run ./internal/cmd/invoke -function ensure-repo -event FILE [flags]
//
// Run with -h for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on w and returns the exit status for it: 0 for none
// or a request for help, 2 for a usage error, 1 otherwise.
func exitCode(err error, w io.Writer) int {
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(w, "invoke: %v\nRun with -h for help.\n", err)
		return 2
	default:
		fmt.Fprintf(w, "invoke: %v\n", err)
		return 1
	}
}
