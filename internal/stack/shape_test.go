package stack

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestGlobalsAndBuild checks the settings sam build and the Lambda runtime
// rely on: the transform, the Globals every function shares, and each
// function built by its Makefile target from the module root.
func TestGlobalsAndBuild(t *testing.T) {
	tmpl := loadTemplate(t)
	if tmpl.Transform != "AWS::Serverless-2016-10-31" {
		t.Errorf("got Transform %v, want AWS::Serverless-2016-10-31", tmpl.Transform)
	}
	fn, _ := tmpl.Globals["Function"].(map[string]any)
	logging, _ := fn["LoggingConfig"].(map[string]any)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Runtime", fn["Runtime"], "provided.al2023"},
		{"Architectures", fn["Architectures"], []any{"arm64"}},
		{"Handler", fn["Handler"], "bootstrap"},
		{"LoggingConfig.LogFormat", logging["LogFormat"], "JSON"},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("Globals.Function.%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	for _, key := range []string{"Timeout", "MemorySize"} {
		if fn[key] == nil {
			t.Errorf("Globals.Function.%s is not set", key)
		}
	}
	commands := functionCommands(t, tmpl)
	for id := range commands {
		res := tmpl.Resources[id]
		if got := res.Metadata["BuildMethod"]; got != "makefile" {
			t.Errorf("%s: got Metadata.BuildMethod %v, want makefile", id, got)
		}
		if got := res.Properties["CodeUri"]; got != "." {
			t.Errorf("%s: got CodeUri %v, want .", id, got)
		}
	}
}

// TestParametersAndOutputs checks that every parameter is described and
// validated, and that the outputs other stacks use are exported.
func TestParametersAndOutputs(t *testing.T) {
	tmpl := loadTemplate(t)
	for _, name := range slices.Sorted(maps.Keys(tmpl.Parameters)) {
		p := tmpl.Parameters[name]
		if strings.TrimSpace(p.Description) == "" {
			t.Errorf("parameter %s has no description", name)
		}
		validated := p.AllowedPattern != "" || len(p.AllowedValues) > 0 ||
			(p.Type == "Number" && p.MinValue != nil && p.MaxValue != nil)
		if !validated {
			t.Errorf("parameter %s has no AllowedPattern, AllowedValues or bounds", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(tmpl.Outputs)) {
		if strings.TrimSpace(tmpl.Outputs[name].Description) == "" {
			t.Errorf("output %s has no description", name)
		}
	}
	r := deployedResolver(t, tmpl, nil)
	exports := map[string]string{
		"EnsureRepoFunctionArn": "ecr-stack-EnsureRepoFunctionArn",
		"AlertTopicArn":         "ecr-stack-AlertTopicArn",
		"ParameterPrefix":       "ecr-stack-ParameterPrefix",
	}
	for output, want := range exports {
		out, ok := tmpl.Outputs[output]
		if !ok {
			t.Errorf("got no output %s", output)
			continue
		}
		got, err := r.String(out.Export["Name"])
		if err != nil {
			t.Errorf("output %s: %v", output, err)
		}
		if got != want {
			t.Errorf("output %s: got export %q, want %q", output, got, want)
		}
	}
	token, err := r.String(tmpl.Outputs["EnsureRepoFunctionArn"].Value)
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:lambda:us-east-1:123456789012:function:" + ensureRepo; token != want {
		t.Errorf("got service token %q, want the unqualified function ARN %q", token, want)
	}
}

// TestEnvironmentMatchesEvents checks that events/env.json, the file for
// sam local invoke --env-vars, sets the variables the template sets, and the
// same values where the template passes a parameter's default.
func TestEnvironmentMatchesEvents(t *testing.T) {
	tmpl := loadTemplate(t)
	data, err := os.ReadFile(filepath.Join(root, "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatalf("decoding events/env.json: %v", err)
	}
	r := deployedResolver(t, tmpl, nil)
	for id := range functionCommands(t, tmpl) {
		t.Run(id, func(t *testing.T) {
			e, _ := tmpl.Resources[id].Properties["Environment"].(map[string]any)
			vars, _ := e["Variables"].(map[string]any)
			got := slices.Sorted(maps.Keys(env[id]))
			want := slices.Sorted(maps.Keys(vars))
			if !slices.Equal(got, want) {
				t.Errorf("events/env.json sets %v, want the template's %v", got, want)
			}
			for name, v := range vars {
				m, _ := v.(map[string]any)
				param, ok := m["Ref"].(string)
				if _, isParam := tmpl.Parameters[param]; !ok || !isParam {
					continue
				}
				if got, want := env[id][name], r.Parameters[param]; got != want {
					t.Errorf("events/env.json sets %s=%q, want the default of %s, %q", name, got, param, want)
				}
			}
		})
	}
}

// TestEncryptedAndAlarmed checks that every queue and topic is encrypted,
// that every function's errors and every queue's depth raise an alarm on the
// alert topic, and that every function has its failure handling.
func TestEncryptedAndAlarmed(t *testing.T) {
	tmpl := loadTemplate(t)
	r := deployedResolver(t, tmpl, nil)
	topic, err := fakeAttribute("AWS::SNS::Topic", "AlertTopic", "")
	if err != nil {
		t.Fatal(err)
	}
	alarmed := map[string]bool{}
	for id, res := range tmpl.Resources {
		if res.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		props, err := r.Resolve(res.Properties)
		if err != nil {
			t.Fatalf("resolving alarm %s: %v", id, err)
		}
		p := props.(map[string]any)
		if got := p["AlarmActions"]; !reflect.DeepEqual(got, []any{topic}) {
			t.Errorf("alarm %s: got actions %v, want the alert topic", id, got)
		}
		dims, _ := p["Dimensions"].([]any)
		for _, d := range dims {
			dm, _ := d.(map[string]any)
			alarmed[p["Namespace"].(string)+"/"+p["MetricName"].(string)+"/"+dm["Value"].(string)] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(tmpl.Resources)) {
		res := tmpl.Resources[id]
		switch res.Type {
		case "AWS::SQS::Queue":
			if res.Properties["SqsManagedSseEnabled"] != true && res.Properties["KmsMasterKeyId"] == nil {
				t.Errorf("queue %s is not encrypted", id)
			}
			if !alarmed["AWS/SQS/ApproximateNumberOfMessagesVisible/"+id] {
				t.Errorf("queue %s has no alarm on its depth", id)
			}
		case "AWS::SNS::Topic":
			if res.Properties["KmsMasterKeyId"] == nil {
				t.Errorf("topic %s is not encrypted", id)
			}
		case "AWS::KMS::Key":
			if res.Properties["EnableKeyRotation"] != true {
				t.Errorf("key %s does not rotate", id)
			}
		case TypeFunction:
			if !alarmed["AWS/Lambda/Errors/"+id] {
				t.Errorf("function %s has no alarm on its errors", id)
			}
			checkFailureHandling(t, id, res)
		}
	}
}

// checkFailureHandling checks a function's asynchronous invocation settings
// and the dead-letter queue of each of its rules.
func checkFailureHandling(t *testing.T, id string, res Resource) {
	t.Helper()
	cfg, _ := res.Properties["EventInvokeConfig"].(map[string]any)
	for _, key := range []string{"MaximumRetryAttempts", "MaximumEventAgeInSeconds"} {
		if cfg[key] == nil {
			t.Errorf("function %s: EventInvokeConfig.%s is not set", id, key)
		}
	}
	dest, _ := cfg["DestinationConfig"].(map[string]any)
	if dest["OnFailure"] == nil {
		t.Errorf("function %s has no on-failure destination", id)
	}
	events, _ := res.Properties["Events"].(map[string]any)
	for name, e := range events {
		ev, _ := e.(map[string]any)
		props, _ := ev["Properties"].(map[string]any)
		if props["DeadLetterConfig"] == nil || props["RetryPolicy"] == nil {
			t.Errorf("function %s: event %s has no dead-letter queue or retry policy", id, name)
		}
		pattern, _ := props["Pattern"].(map[string]any)
		if pattern["source"] == nil || pattern["detail-type"] == nil {
			t.Errorf("function %s: event %s does not filter on source and detail-type", id, name)
		}
	}
}

// TestServicePrincipalsScoped checks that every statement of a resource
// policy (key, topic and queue policies) that allows an AWS service
// principal is limited to this stack's account or resources by an
// aws:SourceAccount or aws:SourceArn condition, so that the service cannot be
// made to act for another account (the confused deputy).
func TestServicePrincipalsScoped(t *testing.T) {
	tmpl := loadTemplate(t)
	found := 0
	for _, id := range slices.Sorted(maps.Keys(tmpl.Resources)) {
		for _, st := range serviceStatements(tmpl.Resources[id].Properties) {
			found++
			cond, _ := st["Condition"].(map[string]any)
			scoped := false
			for _, op := range cond {
				keys, _ := op.(map[string]any)
				_, account := keys["aws:SourceAccount"]
				_, arn := keys["aws:SourceArn"]
				scoped = scoped || account || arn
			}
			if !scoped {
				t.Errorf("%s: statement %v allows %v without an aws:SourceAccount or"+
					" aws:SourceArn condition", id, st["Sid"], st["Principal"])
			}
		}
	}
	if found == 0 {
		t.Error("got no statement allowing a service principal, want the alarms' and rules'")
	}
}

// serviceStatements returns the Allow statements found anywhere in v whose
// Principal names an AWS service.
func serviceStatements(v any) []map[string]any {
	var out []map[string]any
	switch v := v.(type) {
	case map[string]any:
		p, _ := v["Principal"].(map[string]any)
		if _, ok := p["Service"]; ok && v["Effect"] == "Allow" {
			out = append(out, v)
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			out = append(out, serviceStatements(v[k])...)
		}
	case []any:
		for _, e := range v {
			out = append(out, serviceStatements(e)...)
		}
	}
	return out
}
