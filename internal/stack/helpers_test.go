package stack

import (
	"fmt"
	"path/filepath"
	"testing"
)

// root is the module root, relative to this package's directory.
const root = "../.."

// loadTemplate reads the project's template.yaml.
func loadTemplate(t *testing.T) *Template {
	t.Helper()
	tmpl, err := Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// deployedResolver returns a Resolver for the template with the given
// parameter overrides, whose resource references answer the names and ARNs a
// deployment to DefaultPseudo's account would give.
func deployedResolver(t *testing.T, tmpl *Template, overrides map[string]string) *Resolver {
	t.Helper()
	r, err := tmpl.NewResolver(overrides)
	if err != nil {
		t.Fatal(err)
	}
	r.Resource = func(id, attr string) (string, error) {
		res, ok := tmpl.Resources[id]
		if !ok {
			return "", fmt.Errorf("no resource %q in the template", id)
		}
		return fakeAttribute(res.Type, id, attr)
	}
	return r
}

// fakeAttribute returns what Ref (attr "") or Fn::GetAtt of a deployed
// resource of type typ and logical id id would answer.
func fakeAttribute(typ, id, attr string) (string, error) {
	const acct, region = "123456789012", "us-east-1"
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, acct, resource)
	}
	switch typ + "." + attr {
	case TypeFunction + ".":
		return id, nil
	case TypeFunction + ".Arn":
		return arn("lambda", "function:"+id), nil
	case "AWS::SNS::Topic.", "AWS::SNS::Topic.TopicArn":
		return arn("sns", id), nil
	case "AWS::SQS::Queue.":
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, acct, id), nil
	case "AWS::SQS::Queue.Arn":
		return arn("sqs", id), nil
	case "AWS::SQS::Queue.QueueName":
		return id, nil
	case "AWS::KMS::Key.", "AWS::KMS::Key.KeyId":
		return "0f0f0f0f-0000-4000-8000-" + fmt.Sprintf("%012d", len(id)), nil
	case "AWS::KMS::Key.Arn":
		return arn("kms", "key/0f0f0f0f-0000-4000-8000-"+fmt.Sprintf("%012d", len(id))), nil
	case TypeRule + ".Arn":
		return arn("events", "rule/"+id), nil
	case "AWS::Logs::LogGroup.":
		return "/aws/lambda/" + id, nil
	}
	return "", fmt.Errorf("no fake for %s of %s %q", attrName(attr), typ, id)
}

// attrName names an attribute for a message.
func attrName(attr string) string {
	if attr == "" {
		return "Ref"
	}
	return "attribute " + attr
}
