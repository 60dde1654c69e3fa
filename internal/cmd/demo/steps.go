package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// cfnAnswer is what a custom resource PUTs to its ResponseURL.
type cfnAnswer = cfn.Response

// selfServiceResult is the part of ensure-repo's answer to a self-service
// request that the demo checks.
type selfServiceResult struct {
	RepositoryName string `json:"repositoryName"`
	RepositoryURI  string `json:"repositoryUri"`
	ParameterName  string `json:"parameterName"`
}

// customResource sends the CloudFormation Create request, its ResponseURL
// replaced by a pre-signed URL on moto's S3, and shows what the function told
// CloudFormation.
func (d *demo) customResource(ctx context.Context, e *localrun.Emulator) error {
	d.p.section("1. CloudFormation asks for a repository (Custom::EcrRepository, Create)")
	event, err := d.readEvent(createEvent)
	if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(event, &fields); err != nil {
		return fmt.Errorf("reading event %q: %w", createEvent, err)
	}
	var ids struct {
		RequestID string `json:"RequestId"`
	}
	if err := json.Unmarshal(event, &ids); err != nil {
		return fmt.Errorf("reading event %q: %w", createEvent, err)
	}

	bucket, err := localrun.NewResponseBucket(ctx, d.aws, responseBucket)
	if err != nil {
		return err
	}
	key := ids.RequestID
	url, err := bucket.Presign(ctx, key)
	if err != nil {
		return err
	}
	fields["ResponseURL"], err = json.Marshal(url)
	if err != nil {
		return fmt.Errorf("encoding ResponseURL: %w", err)
	}
	event, err = json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("encoding event %q: %w", createEvent, err)
	}

	d.p.table([][2]string{
		{"Event", createEvent},
		{"ResponseURL", "a pre-signed PUT URL for s3://" + responseBucket + "/" + key},
		{"", "on moto (not shown: it is a credential)"},
	})
	if _, err := d.invoke(ctx, e, localrun.EnsureRepo, event); err != nil {
		return err
	}

	body, err := bucket.Read(ctx, key)
	if err != nil {
		return err
	}
	if body == nil {
		return fmt.Errorf("reading the answer to CloudFormation: the function PUT nothing to "+
			"its ResponseURL (its logs: %s)", d.rel(d.logPath(localrun.EnsureRepo)))
	}
	var told cfnAnswer
	if err := json.Unmarshal(body, &told); err != nil {
		return fmt.Errorf("reading the answer to CloudFormation %q: %w", body, err)
	}
	d.outcome.Told = told

	d.p.line("")
	d.p.line("What CloudFormation was told (the object the function PUT, read back):")
	rows := [][2]string{
		{"Status", string(told.Status)},
		{"PhysicalResourceId", told.PhysicalResourceID},
	}
	if told.Reason != "" {
		rows = append(rows, [2]string{"Reason", told.Reason})
	}
	for _, k := range slices.Sorted(maps.Keys(told.Data)) {
		rows = append(rows, [2]string{"Data." + k, fmt.Sprint(told.Data[k])})
	}
	d.p.table(rows)

	if told.Status != cfn.StatusSuccess {
		return fmt.Errorf("creating repository through the custom resource: CloudFormation was "+
			"told %s: %s", told.Status, told.Reason)
	}
	d.outcome.Repository = told.PhysicalResourceID
	d.outcome.URI, _ = told.Data["RepositoryUri"].(string)
	d.outcome.Parameter, _ = told.Data["UriParameterName"].(string)
	return nil
}

// showRepository describes the repository the custom resource created and
// reads its URI from SSM.
func (d *demo) showRepository(ctx context.Context) error {
	name := d.outcome.Repository
	d.p.section("2. The repository in ECR, and its URI in SSM")
	client := ecr.NewFromConfig(d.aws)
	out, err := client.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{
		RepositoryNames: []string{name},
	})
	if err != nil {
		return fmt.Errorf("describing repository %q: %w", name, err)
	}
	if len(out.Repositories) != 1 {
		return fmt.Errorf("describing repository %q: got %d repositories, want 1", name,
			len(out.Repositories))
	}
	repo := out.Repositories[0]

	rows := [][2]string{
		{"Name", aws.ToString(repo.RepositoryName)},
		{"URI", aws.ToString(repo.RepositoryUri)},
		{"ARN", aws.ToString(repo.RepositoryArn)},
		{"Tag mutability", string(repo.ImageTagMutability)},
	}
	if c := repo.ImageScanningConfiguration; c != nil {
		rows = append(rows, [2]string{"Scan on push", strconv.FormatBool(c.ScanOnPush)})
	}
	if c := repo.EncryptionConfiguration; c != nil {
		enc := string(c.EncryptionType)
		if k := aws.ToString(c.KmsKey); k != "" {
			enc += " (" + k + ")"
		}
		rows = append(rows, [2]string{"Encryption", enc})
	}

	lifecycle, err := client.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{
		RepositoryName: aws.String(name),
	})
	var noLifecycle *ecrtypes.LifecyclePolicyNotFoundException
	switch {
	case errors.As(err, &noLifecycle):
		rows = append(rows, [2]string{"Lifecycle policy", "none"})
	case err != nil:
		return fmt.Errorf("reading lifecycle policy of %q: %w", name, err)
	default:
		for _, r := range lifecycleRules(aws.ToString(lifecycle.LifecyclePolicyText)) {
			rows = append(rows, [2]string{"Lifecycle rule", r})
		}
	}

	policy, err := client.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{
		RepositoryName: aws.String(name),
	})
	var noPolicy *ecrtypes.RepositoryPolicyNotFoundException
	switch {
	case errors.As(err, &noPolicy):
		rows = append(rows, [2]string{"Repository policy", "none"})
	case err != nil:
		return fmt.Errorf("reading repository policy of %q: %w", name, err)
	default:
		for _, s := range policyStatements(aws.ToString(policy.PolicyText)) {
			rows = append(rows, [2]string{"Policy statement", s})
		}
	}

	tags, err := client.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{
		ResourceArn: repo.RepositoryArn,
	})
	if err != nil {
		return fmt.Errorf("listing tags of %q: %w", name, err)
	}
	slices.SortFunc(tags.Tags, func(a, b ecrtypes.Tag) int {
		return strings.Compare(aws.ToString(a.Key), aws.ToString(b.Key))
	})
	for _, t := range tags.Tags {
		rows = append(rows, [2]string{"Tag", aws.ToString(t.Key) + " = " + aws.ToString(t.Value)})
	}
	d.p.table(rows)

	d.repositoryARN = aws.ToString(repo.RepositoryArn)
	d.registryID = aws.ToString(repo.RegistryId)

	d.p.line("")
	d.p.line("The URI, read from SSM the way a user would:")
	value, err := d.readParameter(ctx, d.outcome.Parameter)
	if err != nil {
		return err
	}
	d.outcome.ParameterValue = value
	if value != d.outcome.URI {
		return fmt.Errorf("reading parameter %q: got %q, want the repository URI %q",
			d.outcome.Parameter, value, d.outcome.URI)
	}
	return nil
}

// selfService sends the self-service request and reads the URI it stored.
func (d *demo) selfService(ctx context.Context, e *localrun.Emulator) error {
	d.p.section("3. A team asks for a repository (EventBridge \"ECR Repository Request\")")
	event, err := d.readEvent(selfServiceEvent)
	if err != nil {
		return err
	}
	d.p.table([][2]string{{"Event", selfServiceEvent}})
	body, err := d.invoke(ctx, e, localrun.EnsureRepo, event)
	if err != nil {
		return err
	}
	var res selfServiceResult
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("reading the self-service result %q: %w", body, err)
	}
	d.outcome.SelfService = res

	d.p.line("")
	d.p.json("The function's result (what the on-success destination receives):", body)

	d.p.line("")
	d.p.line("The URI, read from SSM:")
	value, err := d.readParameter(ctx, res.ParameterName)
	if err != nil {
		return err
	}
	d.outcome.SelfServiceValue = value
	if value != res.RepositoryURI {
		return fmt.Errorf("reading parameter %q: got %q, want the repository URI %q",
			res.ParameterName, value, res.RepositoryURI)
	}
	return nil
}

// scan pushes and scans an image in the demo repository, sends the scan
// result to scan-notifier, and shows the alert a subscriber of the topic
// receives.
func (d *demo) scan(ctx context.Context) error {
	repo := d.outcome.Repository
	d.p.section("4. An image is pushed and scanned; scan-notifier alerts the topic")
	topicARN, err := localrun.CreateTopic(ctx, d.aws, topicName)
	if err != nil {
		return err
	}
	queue, err := localrun.SubscribeQueue(ctx, d.aws, topicARN, queueName)
	if err != nil {
		return err
	}

	raw, err := d.readEvent(scanEvent)
	if err != nil {
		return err
	}
	var event events.EventBridgeEvent
	if err := json.Unmarshal(raw, &event); err != nil {
		return fmt.Errorf("reading event %q: %w", scanEvent, err)
	}
	var detail map[string]any
	if err := json.Unmarshal(event.Detail, &detail); err != nil {
		return fmt.Errorf("reading detail of event %q: %w", scanEvent, err)
	}
	var tags []string
	if list, ok := detail["image-tags"].([]any); ok {
		for _, t := range list {
			if s, ok := t.(string); ok {
				tags = append(tags, s)
			}
		}
	}

	digest, err := localrun.PushImage(ctx, d.aws, repo, tags...)
	if err != nil {
		return err
	}
	if err := localrun.ScanImage(ctx, d.aws, repo, digest); err != nil {
		return err
	}
	status, counts, err := d.scanResult(ctx, repo, digest)
	if err != nil {
		return err
	}
	d.p.table([][2]string{
		{"Topic", topicARN},
		{"Subscriber", "SQS queue " + queue.Name + " (raw message delivery off)"},
		{"Pushed", repo + "@" + digest},
		{"Tags", strings.Join(tags, ", ")},
		{"Basic scan", status + ", " + formatCounts(counts) + " (moto makes up one finding)"},
	})

	// The sample event, about the image just scanned: moto's account and
	// Region, and the counts moto's scan found, so that the alert's counts
	// and its list of findings agree.
	detail["repository-name"] = repo
	detail["image-digest"] = digest
	detail["image-tags"] = tags
	detail["scan-status"] = status
	detail["finding-severity-counts"] = counts
	event.Detail, err = json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encoding detail of event %q: %w", scanEvent, err)
	}
	event.AccountID = d.registryID
	event.Region = d.aws.Region
	event.Resources = []string{d.repositoryARN}
	event.Time = time.Now().UTC().Truncate(time.Second)
	payload, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encoding event %q: %w", scanEvent, err)
	}

	e, err := d.emulator(ctx, localrun.ScanNotifier, "TOPIC_ARN="+topicARN)
	if err != nil {
		return err
	}
	d.p.line("")
	d.p.table([][2]string{{"Event", scanEvent + ", about the image above"}})
	body, err := d.invoke(ctx, e, localrun.ScanNotifier, payload)
	if err != nil {
		return err
	}
	d.p.json("The function's result:", body)

	wait, cancel := context.WithTimeout(ctx, alertWait)
	defer cancel()
	msgs, err := queue.Receive(wait, 1)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for the alert: %w", ctx.Err())
	}
	if len(msgs) == 0 {
		return fmt.Errorf("waiting for the alert: none reached queue %q within %s (scan-notifier's "+
			"logs: %s)", queue.Name, alertWait, d.rel(d.logPath(localrun.ScanNotifier)))
	}
	alert, err := localrun.DecodeNotification(aws.ToString(msgs[0].Body))
	if err != nil {
		return err
	}
	d.outcome.Alert = alert

	d.p.line("")
	d.p.line("What a subscriber of the topic receives:")
	rows := [][2]string{{"Subject", alert.Subject}}
	for _, k := range slices.Sorted(maps.Keys(alert.MessageAttributes)) {
		a := alert.MessageAttributes[k]
		rows = append(rows, [2]string{"Attribute " + k, a.Value + " (" + a.Type + ")"})
	}
	d.p.table(rows)
	d.p.line("Message:")
	d.p.block(alert.Message)
	return nil
}

// scanResult returns the status of the scan of digest and the count of its
// findings per severity.
func (d *demo) scanResult(ctx context.Context, repo, digest string) (string, map[string]int32,
	error) {
	out, err := ecr.NewFromConfig(d.aws).DescribeImageScanFindings(ctx,
		&ecr.DescribeImageScanFindingsInput{
			RepositoryName: aws.String(repo),
			ImageId:        &ecrtypes.ImageIdentifier{ImageDigest: aws.String(digest)},
		})
	if err != nil {
		return "", nil, fmt.Errorf("reading scan findings of %s in %q: %w", digest, repo, err)
	}
	status := "UNKNOWN"
	if s := out.ImageScanStatus; s != nil {
		status = string(s.Status)
	}
	counts := map[string]int32{}
	if f := out.ImageScanFindings; f != nil {
		maps.Copy(counts, f.FindingSeverityCounts)
	}
	return status, counts, nil
}

// readParameter reads the parameter name with `aws ssm get-parameter` when
// the AWS CLI is on PATH, and through the SDK otherwise, printing the
// command and its answer.
func (d *demo) readParameter(ctx context.Context, name string) (string, error) {
	args := []string{"ssm", "get-parameter", "--name", name,
		"--query", "Parameter.Value", "--output", "text"}
	d.p.line("$ aws %s", strings.Join(args, " "))

	how := "no aws CLI on PATH: read with the AWS SDK for Go instead"
	if path, err := exec.LookPath("aws"); err == nil {
		cmd := exec.CommandContext(ctx, path, args...)
		cmd.Env = cliEnv(os.Environ(), d.moto.URL, d.aws.Region)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err == nil {
			value := strings.TrimSpace(string(out))
			d.p.line("%s", value)
			d.p.note("(the aws CLI, run with AWS_ENDPOINT_URL=%s and moto's credentials)",
				d.moto.URL)
			return value, nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("reading parameter %q: %w", name, ctx.Err())
		}
		how = fmt.Sprintf("the aws CLI failed (%v: %s): read with the AWS SDK for Go instead",
			err, lastLine(stderr.String()))
	}

	out, err := ssm.NewFromConfig(d.aws).GetParameter(ctx, &ssm.GetParameterInput{
		Name: aws.String(name),
	})
	if err != nil {
		return "", fmt.Errorf("reading parameter %q: %w", name, err)
	}
	value := aws.ToString(out.Parameter.Value)
	d.p.line("%s", value)
	d.p.note("(%s)", how)
	return value, nil
}

// cliEnv returns environ with every AWS_ variable replaced by those that
// point the AWS CLI at endpoint with moto's credentials and nothing from the
// user's shared configuration.
func cliEnv(environ []string, endpoint, region string) []string {
	env := slices.DeleteFunc(slices.Clone(environ), func(kv string) bool {
		return strings.HasPrefix(kv, "AWS_")
	})
	return append(env,
		"AWS_ENDPOINT_URL="+endpoint,
		"AWS_ACCESS_KEY_ID="+localrun.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+localrun.SecretAccessKey,
		"AWS_REGION="+region,
		"AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_PAGER=",
	)
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// severities orders severities from the worst.
var severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"}

// formatCounts returns counts as "1 HIGH, 2 LOW", the worst first, or "no
// findings".
func formatCounts(counts map[string]int32) string {
	var parts []string
	for _, s := range severities {
		if n := counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if len(parts) == 0 {
		return "no findings"
	}
	return strings.Join(parts, ", ")
}

// lifecycleRules returns one line per rule of a lifecycle policy: its
// priority and description, or the policy text when it cannot be read.
func lifecycleRules(text string) []string {
	var p struct {
		Rules []struct {
			Priority    int    `json:"rulePriority"`
			Description string `json:"description"`
		} `json:"rules"`
	}
	if json.Unmarshal([]byte(text), &p) != nil || len(p.Rules) == 0 {
		return []string{text}
	}
	lines := make([]string, 0, len(p.Rules))
	for _, r := range p.Rules {
		lines = append(lines, fmt.Sprintf("%d: %s", r.Priority, r.Description))
	}
	return lines
}

// policyStatements returns one entry per statement of a repository policy:
// its id, effect and principals, and on a second line its actions; or the
// policy text when it cannot be read.
func policyStatements(text string) []string {
	var p struct {
		Statement []struct {
			Sid       string
			Effect    string
			Principal any
			Action    any
		}
	}
	if json.Unmarshal([]byte(text), &p) != nil || len(p.Statement) == 0 {
		return []string{text}
	}
	lines := make([]string, 0, len(p.Statement))
	for _, s := range p.Statement {
		lines = append(lines, fmt.Sprintf("%s: %s %s\n  %s", s.Sid, s.Effect,
			strings.Join(flatten(s.Principal), ", "), strings.Join(flatten(s.Action), ", ")))
	}
	return lines
}

// flatten returns the strings in a policy element: a string, a list of
// strings, or an object of either, such as {"AWS": [...]}.
func flatten(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, flatten(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			out = append(out, flatten(v[k])...)
		}
		return out
	default:
		return nil
	}
}
