// Package policy decides whether a scan result is worth a message: the
// severity threshold, suppressed vulnerabilities, failed scans and clean
// images. It reads its settings from the environment and calls nothing.
package policy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

// The environment variables FromEnv reads.
const (
	EnvThreshold     = "SEVERITY_THRESHOLD"
	EnvNotifyOnClean = "NOTIFY_ON_CLEAN"
	EnvMaxFindings   = "MAX_FINDINGS"
	EnvSuppressed    = "SUPPRESSED_FINDINGS"
)

// The defaults and bounds of the settings.
const (
	DefaultThreshold   = scan.High
	DefaultMaxFindings = 20
	MaxMaxFindings     = 1000
)

// Config holds the notification policy.
type Config struct {
	// Threshold is the least severity that is worth a message.
	Threshold scan.Severity
	// NotifyOnClean sends a message for scans without findings too.
	NotifyOnClean bool
	// MaxFindings is how many findings a message lists, from 1 to
	// MaxMaxFindings.
	MaxFindings int
	// Suppressions lists the vulnerabilities left out of counts and lists.
	Suppressions []Suppression
}

// Suppression leaves one vulnerability out of counts and lists, until the
// end of its expiry day when it has one.
type Suppression struct {
	// ID is the vulnerability id, matched without regard to case.
	ID string
	// Until is the first instant at which the vulnerability counts again:
	// midnight UTC after the expiry date. The zero time never expires.
	Until time.Time
}

// Active reports whether the suppression applies at now.
func (s Suppression) Active(now time.Time) bool {
	return s.Until.IsZero() || now.Before(s.Until)
}

// Default returns the policy with every setting at its default.
func Default() Config {
	return Config{Threshold: DefaultThreshold, MaxFindings: DefaultMaxFindings}
}

// FromEnv reads the policy from the environment through getenv, such as
// os.Getenv. Unset or blank variables take their defaults:
//
//   - SEVERITY_THRESHOLD: CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL
//     (any case); default HIGH.
//   - NOTIFY_ON_CLEAN: a boolean as strconv.ParseBool reads it; default
//     false.
//   - MAX_FINDINGS: how many findings a message lists, 1 to 1000; default 20.
//   - SUPPRESSED_FINDINGS: vulnerability ids separated by commas or white
//     space, each optionally followed by ":" and an expiry date (YYYY-MM-DD,
//     UTC) after which it counts again, such as
//     "CVE-2023-1234, CVE-2024-9:2025-06-30". Ids that contain a colon
//     themselves, such as "RHSA-2023:1234", are read whole unless a date
//     follows the last colon.
//
// The error names the variable and, for suppressions, the entry.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Default()
	if v := strings.TrimSpace(getenv(EnvThreshold)); v != "" {
		sev, ok := scan.ParseSeverity(v)
		if !ok || sev == scan.Undefined {
			return Config{}, fmt.Errorf("reading %s %q: "+
				"want CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL", EnvThreshold, v)
		}
		c.Threshold = sev
	}
	if v := strings.TrimSpace(getenv(EnvNotifyOnClean)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("reading %s %q: want true or false", EnvNotifyOnClean, v)
		}
		c.NotifyOnClean = b
	}
	if v := strings.TrimSpace(getenv(EnvMaxFindings)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxMaxFindings {
			return Config{}, fmt.Errorf("reading %s %q: want a whole number from 1 to %d",
				EnvMaxFindings, v, MaxMaxFindings)
		}
		c.MaxFindings = n
	}
	sup, err := ParseSuppressions(getenv(EnvSuppressed))
	if err != nil {
		return Config{}, fmt.Errorf("reading %s: %w", EnvSuppressed, err)
	}
	c.Suppressions = sup
	return c, nil
}

// vulnerabilityID matches the ids a suppression may name: CVE, GHSA, ALAS,
// RHSA and similar ids, at most 128 characters.
var vulnerabilityID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,127}$`)

// datePattern matches the shape of an expiry date, so that a malformed date
// is reported rather than read as part of the id.
var datePattern = regexp.MustCompile(`^\d{4}-\d{1,2}-\d{1,2}$`)

// ParseSuppressions reads the SUPPRESSED_FINDINGS syntax that FromEnv
// describes. An id named twice keeps the later expiry, and no expiry beats
// any date. The error names the entry.
func ParseSuppressions(v string) ([]Suppression, error) {
	entries := strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	var out []Suppression
	index := map[string]int{}
	for _, entry := range entries {
		s, err := parseSuppression(entry)
		if err != nil {
			return nil, fmt.Errorf("reading entry %q: %w", entry, err)
		}
		key := strings.ToUpper(s.ID)
		i, seen := index[key]
		if !seen {
			index[key] = len(out)
			out = append(out, s)
			continue
		}
		if s.Until.IsZero() || (!out[i].Until.IsZero() && s.Until.After(out[i].Until)) {
			out[i].Until = s.Until
		}
	}
	return out, nil
}

// parseSuppression reads one "ID" or "ID:YYYY-MM-DD" entry.
func parseSuppression(entry string) (Suppression, error) {
	id := entry
	var until time.Time
	if i := strings.LastIndex(entry, ":"); i >= 0 && datePattern.MatchString(entry[i+1:]) {
		id = entry[:i]
		day, err := time.Parse("2006-1-2", entry[i+1:])
		if err != nil {
			return Suppression{}, fmt.Errorf("expiry %q is not a date (YYYY-MM-DD)", entry[i+1:])
		}
		until = day.AddDate(0, 0, 1)
	}
	if !vulnerabilityID.MatchString(id) {
		return Suppression{}, fmt.Errorf("%q is not a vulnerability id "+
			"(letters, digits and ._:/+- up to 128 characters)", id)
	}
	return Suppression{ID: id, Until: until}, nil
}

// Suppressed reports whether the vulnerability id is suppressed at now.
func (c Config) Suppressed(id string, now time.Time) bool {
	for _, s := range c.Suppressions {
		if strings.EqualFold(s.ID, id) && s.Active(now) {
			return true
		}
	}
	return false
}

// active returns the suppressions that apply at now, keyed by upper-case id.
func (c Config) active(now time.Time) map[string]bool {
	m := make(map[string]bool, len(c.Suppressions))
	for _, s := range c.Suppressions {
		if s.Active(now) {
			m[strings.ToUpper(s.ID)] = true
		}
	}
	return m
}
