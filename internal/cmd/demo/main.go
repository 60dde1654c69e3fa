// Command demo shows the stack working on one machine, without Docker or an
// AWS account: it builds both functions' bootstraps, starts moto, and runs
// each bootstrap under the Lambda Runtime Interface Emulator with the sample
// events in events/, the way Lambda would run it.
//
// It creates a repository through a CloudFormation Create request, whose
// ResponseURL is a pre-signed URL on moto's S3, and shows what CloudFormation
// was told; shows the repository and reads its URI from SSM the way a user
// would; asks for a second repository with a self-service request; then
// pushes and scans an image and shows the alert a subscriber of the topic
// receives. It stops everything it started, also when interrupted.
//
// Usage, from anywhere in the module:
//
//	make demo        # or: go run ./internal/cmd/demo
//
// The functions' JSON logs go to build/demo-logs/, not to the terminal.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	interrupted := ctx.Err() != nil
	stop()
	switch {
	case err != nil && interrupted:
		fmt.Fprintln(os.Stderr, "demo: interrupted; stopped what it had started")
		os.Exit(130)
	case err != nil:
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

// run runs the demo from the root of the module that governs the working
// directory, writing to standard output.
func run(ctx context.Context) error {
	root, err := localrun.ModuleRoot()
	if err != nil {
		return err
	}
	d := &demo{
		out:      os.Stdout,
		root:     root,
		buildDir: filepath.Join(root, "build"),
		logDir:   filepath.Join(root, "build", "demo-logs"),
	}
	return d.run(ctx)
}
