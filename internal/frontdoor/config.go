package frontdoor

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ecr-stack/ecr-stack/internal/request"
)

// The environment variables ensure-repo reads.
const (
	EnvParameterPrefix   = "PARAMETER_PREFIX"
	EnvAllowedPrefixes   = "ALLOWED_REPOSITORY_PREFIXES"
	EnvAllowOpenPolicies = "ALLOW_OPEN_REPOSITORY_POLICIES"
	EnvRequestSource     = "REQUEST_SOURCE"
	EnvAccountID         = "ACCOUNT_ID"
)

// DefaultParameterPrefix is where URI parameters go unless PARAMETER_PREFIX
// says otherwise.
const DefaultParameterPrefix = "/ecr/repositories"

// prefixPattern matches what can start a repository name: lower-case letters,
// digits and the separators ECR allows.
var prefixPattern = regexp.MustCompile(`^[a-z0-9._/-]+$`)

// accountPattern matches an AWS account id.
var accountPattern = regexp.MustCompile(`^[0-9]{12}$`)

// Config is ensure-repo's configuration.
type Config struct {
	// ParameterPrefix is the parameter path under which URIs are stored by
	// default and under which requests may name theirs. It starts with "/"
	// and does not end with one.
	ParameterPrefix string
	// AllowedPrefixes limits the repository names of both custom resources
	// and self-service requests, since the function's IAM permissions cover
	// only these repositories; empty allows all.
	AllowedPrefixes []string
	// AllowOpenPolicies lets self-service requests set repository policies
	// that grant "*" or other accounts.
	AllowOpenPolicies bool
	// RequestSource, when set, is the only event source self-service accepts,
	// beside the event rule's own filter.
	RequestSource string
	// AccountID is the account the function runs in, whose principals a
	// self-service repository policy may grant; empty: the account of the
	// invoked function's ARN.
	AccountID string
}

// ConfigFromEnv reads Config from the environment through getenv:
//
//   - PARAMETER_PREFIX: a parameter path such as "/ecr/repositories" (the
//     default); a "/" at the end is dropped. It must leave room for the
//     repository name and "uri" within SSM's rules.
//   - ALLOWED_REPOSITORY_PREFIXES: comma-separated name prefixes such as
//     "team-a/,team-b/"; spaces around entries and empty entries are
//     ignored; empty allows every name.
//   - ALLOW_OPEN_REPOSITORY_POLICIES: a boolean (true, false, 1, 0, ...);
//     default false.
//   - REQUEST_SOURCE: the EventBridge source self-service requests must
//     come from; empty accepts any source the event rule lets through.
//   - ACCOUNT_ID: the 12-digit account the function runs in, which the
//     open-policy check of self-service requests holds principals to; empty
//     takes the account from the invoked function's ARN, which the Lambda
//     Runtime Interface Emulator sets to an account of its own.
//
// Each error names its variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var cfg Config
	var errs []error

	cfg.ParameterPrefix = strings.TrimSpace(getenv(EnvParameterPrefix))
	if cfg.ParameterPrefix == "" {
		cfg.ParameterPrefix = DefaultParameterPrefix
	}
	if err := checkPrefix(cfg.ParameterPrefix); err != nil {
		errs = append(errs, fmt.Errorf("%s %q: %w", EnvParameterPrefix, cfg.ParameterPrefix, err))
	}
	cfg.ParameterPrefix = strings.TrimRight(cfg.ParameterPrefix, "/")

	for p := range strings.SplitSeq(getenv(EnvAllowedPrefixes), ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !prefixPattern.MatchString(p) {
			errs = append(errs, fmt.Errorf("%s: %q can never start a repository name, which"+
				" uses only lower-case letters, digits and . _ - /", EnvAllowedPrefixes, p))
			continue
		}
		cfg.AllowedPrefixes = append(cfg.AllowedPrefixes, p)
	}

	if v := strings.TrimSpace(getenv(EnvAllowOpenPolicies)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: must be true or false", EnvAllowOpenPolicies, v))
		}
		cfg.AllowOpenPolicies = b
	}

	cfg.RequestSource = strings.TrimSpace(getenv(EnvRequestSource))

	cfg.AccountID = strings.TrimSpace(getenv(EnvAccountID))
	if cfg.AccountID != "" && !accountPattern.MatchString(cfg.AccountID) {
		errs = append(errs, fmt.Errorf("%s %q: must be an AWS account id of 12 digits",
			EnvAccountID, cfg.AccountID))
	}

	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Scope returns the repositories and parameters both doors may manage: names
// under AllowedPrefixes and parameters under ParameterPrefix.
func (c Config) Scope() request.Scope {
	return request.Scope{ParameterPrefix: c.ParameterPrefix, RepositoryPrefixes: c.AllowedPrefixes}
}

// checkPrefix checks that prefix can start parameter names: the default
// parameter of a repository under it, prefix/<repository>/uri, must pass
// SSM's rules for a one-level repository name.
func checkPrefix(prefix string) error {
	if !strings.HasPrefix(prefix, "/") {
		return errors.New(`must start with "/"`)
	}
	if strings.TrimRight(prefix, "/") == "" {
		return errors.New("must name at least one level")
	}
	err := request.ValidateParameterName(request.DefaultParameterName(prefix, "r"))
	var fe *request.FieldError
	if errors.As(err, &fe) {
		return fmt.Errorf(`with "/<repository>/uri" appended, %s`, fe.Rule)
	}
	return err
}
