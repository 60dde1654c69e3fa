package localrun

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxFormBody bounds how much of a query-protocol request body Operation
// reads to find the Action.
const maxFormBody = 8 << 20

// Protocol is the wire protocol of an AWS request, which decides the shape of
// an error answer to it.
type Protocol int

// The protocols whose error answers differ in shape.
const (
	ProtocolJSON  Protocol = iota // awsJson1_0, awsJson1_1, restJson1; also what is not recognised
	ProtocolQuery                 // awsQuery (SNS), named by its Action
	ProtocolS3                    // restXml as S3 speaks it
)

// Services by SigV4 signing name, as operation names spell them.
var services = map[string]string{
	"cloudformation": "CloudFormation",
	"ecr":            "ECR",
	"events":         "EventBridge",
	"iam":            "IAM",
	"inspector2":     "Inspector2",
	"kms":            "KMS",
	"lambda":         "Lambda",
	"logs":           "CloudWatchLogs",
	"s3":             "S3",
	"sns":            "SNS",
	"sqs":            "SQS",
	"ssm":            "SSM",
	"sts":            "STS",
}

// Services by X-Amz-Target prefix, for JSON protocols.
var targets = map[string]string{
	"AmazonEC2ContainerRegistry_V20150921": "ECR",
	"AmazonSSM":                            "SSM",
	"AmazonSQS":                            "SQS",
	"AWSEvents":                            "EventBridge",
	"AWSSecurityTokenServiceV20110615":     "STS",
	"Logs_20140328":                        "CloudWatchLogs",
	"TrentService":                         "KMS",
}

// Operation names the AWS operation of r as "Service.Operation", e.g.
// "ECR.DescribeRepositories", "SNS.Publish" or "S3.PutObject", and returns
// its protocol. The service comes from the X-Amz-Target prefix or the SigV4
// credential scope (the Authorization header, or X-Amz-Credential of a
// pre-signed URL); the operation from X-Amz-Target, the query-protocol
// Action, or the method and path of an S3 request. A form body is read to
// find the Action and put back, so r can still be forwarded.
//
// What it cannot name keeps its method and path, and "unknown" stands for a
// service it cannot tell: "unknown.GET /latest/api/token". A CONNECT request,
// which a client sends to a proxy it uses for HTTPS, is named
// "CONNECT host:port".
func Operation(r *http.Request) (string, Protocol) {
	if r.Method == http.MethodConnect {
		return "CONNECT " + r.Host, ProtocolJSON
	}
	scope := signingName(r)
	service := services[scope]
	if service == "" {
		service = scope
	}

	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, op, ok := strings.Cut(target, ".")
		if !ok {
			return orUnknown(service) + "." + target, ProtocolJSON
		}
		if s, ok := targets[prefix]; ok {
			service = s
		} else if service == "" {
			service = prefix
		}
		return service + "." + op, ProtocolJSON
	}

	if action := queryAction(r); action != "" {
		return orUnknown(service) + "." + action, ProtocolQuery
	}

	if scope == "s3" {
		return "S3." + s3Operation(r), ProtocolS3
	}
	return orUnknown(service) + "." + r.Method + " " + r.URL.Path, ProtocolJSON
}

// orUnknown returns service, or "unknown" when it is empty.
func orUnknown(service string) string {
	if service == "" {
		return "unknown"
	}
	return service
}

// signingName returns the service of the SigV4 credential scope, from the
// Authorization header or, for a pre-signed URL, the X-Amz-Credential query
// parameter; "" when the request is not signed.
func signingName(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, after, ok := strings.Cut(auth, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(after, ",")
	}
	// AKID/date/region/service/aws4_request
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

// queryAction returns the Action of a query-protocol request, from the URL or
// a form body, which it reads and puts back.
func queryAction(r *http.Request) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	form := strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
	if r.Body == nil || !form {
		return ""
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil {
		return ""
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return values.Get("Action")
}

// s3Subresources are the query parameters that make an S3 request one on a
// subresource of a bucket or object rather than on the bucket or object.
var s3Subresources = []string{
	"policy", "tagging", "acl", "versioning", "uploads", "uploadId", "delete",
}

// s3Operation names the S3 operation of a path-style request, for the
// operations on buckets and objects that tests use; others are named by
// method and path.
func s3Operation(r *http.Request) string {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	sub := ""
	for _, s := range s3Subresources {
		if q.Has(s) {
			sub = s
			break
		}
	}
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
	case key == "" && sub == "":
		switch r.Method {
		case http.MethodPut:
			return "CreateBucket"
		case http.MethodDelete:
			return "DeleteBucket"
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodGet:
			if q.Get("list-type") == "2" {
				return "ListObjectsV2"
			}
			return "ListObjects"
		}
	case key != "" && sub == "":
		switch r.Method {
		case http.MethodPut:
			if r.Header.Get("X-Amz-Copy-Source") != "" {
				return "CopyObject"
			}
			return "PutObject"
		case http.MethodGet:
			return "GetObject"
		case http.MethodHead:
			return "HeadObject"
		case http.MethodDelete:
			return "DeleteObject"
		}
	}
	return r.Method + " " + r.URL.Path
}
