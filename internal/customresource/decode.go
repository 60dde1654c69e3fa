package customresource

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/cfn"
)

// incoming is a request as far as it could be decoded, with the errors of the
// parts that could not.
type incoming struct {
	ev          cfn.Event
	err         error // fields other than the properties
	propsErr    error // ResourceProperties
	oldPropsErr error // OldResourceProperties
}

// decode reads a custom resource request. A request that does not decode as
// a whole is read field by field, so that it can still be answered; only a
// request without a readable ResponseURL is an error, since nobody can be
// told about it.
func decode(raw []byte) (incoming, error) {
	var in incoming
	if err := json.Unmarshal(raw, &in.ev); err == nil {
		if in.ev.ResponseURL == "" {
			return in, errors.New("reading custom resource request: ResponseURL is missing")
		}
		return in, nil
	}

	in = incoming{}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return in, fmt.Errorf("decoding custom resource request: %w", err)
	}
	var errs []error
	text := func(key string, dst *string) {
		if v, ok := fields[key]; ok {
			if json.Unmarshal(v, dst) != nil {
				errs = append(errs, fmt.Errorf("%s: must be a string", key))
			}
		}
	}
	var requestType string
	text("RequestType", &requestType)
	in.ev.RequestType = cfn.RequestType(requestType)
	text("RequestId", &in.ev.RequestID)
	text("ResponseURL", &in.ev.ResponseURL)
	text("ResourceType", &in.ev.ResourceType)
	text("PhysicalResourceId", &in.ev.PhysicalResourceID)
	text("LogicalResourceId", &in.ev.LogicalResourceID)
	text("StackId", &in.ev.StackID)
	in.err = errors.Join(errs...)
	if v, ok := fields["ResourceProperties"]; ok {
		if json.Unmarshal(v, &in.ev.ResourceProperties) != nil {
			in.propsErr = errors.New("ResourceProperties: must be an object")
		}
	}
	if v, ok := fields["OldResourceProperties"]; ok {
		if json.Unmarshal(v, &in.ev.OldResourceProperties) != nil {
			in.oldPropsErr = errors.New("OldResourceProperties: must be an object")
		}
	}
	if in.ev.ResponseURL == "" {
		return in, errors.New("reading custom resource request: ResponseURL is missing or not" +
			" a string")
	}
	return in, nil
}
