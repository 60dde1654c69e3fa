package testsupport

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// Region is the region of every aws.Config this package builds.
const Region = localrun.DefaultRegion

// Static credentials moto accepts; the function under the emulator gets the
// same ones from Emulator.
const (
	AccessKeyID     = localrun.AccessKeyID
	SecretAccessKey = localrun.SecretAccessKey
)

// MaxAttempts is how many attempts the retryer of AWSConfig makes per
// operation, the first included: a fault injected for the first MaxAttempts
// calls of an operation makes it fail.
const MaxAttempts = 3

// httpTimeout bounds one HTTP attempt of an AWSConfig client, so that a test
// against a hanging endpoint ends even without a context deadline.
const httpTimeout = 30 * time.Second

// moto is the moto_server shared by the tests of this test binary.
var moto struct {
	once sync.Once
	m    *localrun.Moto
	err  error
}

// Moto returns the moto_server of this test binary, starting it on first use.
// It is never closed: it dies with the test binary. Tests share it, so each
// names what it creates uniquely (t.Name() helps). When moto cannot start, t
// fails with the reason, which says how to install moto when it is missing.
func Moto(t testing.TB) *localrun.Moto {
	t.Helper()
	moto.once.Do(func() {
		moto.m, moto.err = localrun.StartMoto(context.Background())
	})
	if moto.err != nil {
		t.Fatalf("%v", moto.err)
	}
	return moto.m
}

// AWSConfig returns a configuration for clients of endpoint (moto, or a Proxy
// in front of it): region us-east-1, static credentials, BaseEndpoint set,
// and a retryer that makes MaxAttempts attempts with millisecond backoff and
// no retry quota, so retry paths run fast and predictably. It reads nothing
// from the environment or shared config files.
func AWSConfig(t testing.TB, endpoint string) aws.Config {
	t.Helper()
	cfg := localrun.EndpointConfig(endpoint)
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(httpTimeout)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = MaxAttempts
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
				return time.Duration(attempt) * 5 * time.Millisecond, nil
			})
		})
	}
	return cfg
}
