// Package testsupport holds helpers used by tests only: a moto_server shared
// by the tests of one test binary, an aws.Config pointed at it, function
// bootstraps built once and run under the Lambda Runtime Interface Emulator,
// a proxy that records and fails AWS calls, a server that stands in for a
// CloudFormation response URL, and moto fixtures (a bucket for pre-signed
// URLs, a queue subscribed to a topic, a scanned image).
//
// Helpers that cannot do their job fail the test with t.Fatal; none skips.
package testsupport
