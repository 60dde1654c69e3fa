package localrun

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Static credentials moto accepts. Functions run against moto get them
// through Env.
const (
	AccessKeyID     = "testing"
	SecretAccessKey = "testing"
)

// Config returns a configuration for clients of moto: region DefaultRegion,
// the static credentials AccessKeyID and SecretAccessKey, and BaseEndpoint
// set to the server's URL. It reads nothing from the environment or shared
// config files, and keeps the SDK's default retryer and HTTP client.
func (m *Moto) Config() aws.Config {
	return EndpointConfig(m.URL)
}

// EndpointConfig is Moto.Config for any endpoint that stands in for AWS, such
// as a proxy in front of moto.
func EndpointConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// Env returns the KEY=VALUE pairs that point a function run under the
// emulator at moto: AWS_ENDPOINT_URL and the static credentials.
func (m *Moto) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + m.URL,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
	}
}
