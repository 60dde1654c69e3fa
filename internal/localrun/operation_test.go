package localrun

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestOperation(t *testing.T) {
	auth := func(service string) string {
		return "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/" + service +
			"/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
	}
	const form = "application/x-www-form-urlencoded; charset=utf-8"
	tests := []struct {
		name      string
		method    string
		target    string
		host      string // "": the one httptest.NewRequest sets
		headers   map[string]string
		body      string
		wantOp    string
		wantProto Protocol
	}{
		{
			name: "ecr", method: http.MethodPost, target: "/",
			headers: map[string]string{
				"X-Amz-Target":  "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
				"Authorization": auth("ecr"),
			},
			body:   "{}",
			wantOp: "ECR.DescribeRepositories", wantProto: ProtocolJSON,
		},
		{
			name: "ssm", method: http.MethodPost, target: "/",
			headers: map[string]string{
				"X-Amz-Target":  "AmazonSSM.GetParameter",
				"Authorization": auth("ssm"),
			},
			wantOp: "SSM.GetParameter", wantProto: ProtocolJSON,
		},
		{
			name: "target without signature", method: http.MethodPost, target: "/",
			headers: map[string]string{"X-Amz-Target": "AmazonSSM.GetParameter"},
			wantOp:  "SSM.GetParameter", wantProto: ProtocolJSON,
		},
		{
			name: "unknown target prefix", method: http.MethodPost, target: "/",
			headers: map[string]string{"X-Amz-Target": "Other_2020.Do"},
			wantOp:  "Other_2020.Do", wantProto: ProtocolJSON,
		},
		{
			name: "target without operation", method: http.MethodPost, target: "/",
			headers: map[string]string{"X-Amz-Target": "Do"},
			wantOp:  "unknown.Do", wantProto: ProtocolJSON,
		},
		{
			name: "unknown signing name", method: http.MethodPost, target: "/",
			headers: map[string]string{
				"X-Amz-Target":  "Other_2020",
				"Authorization": auth("other"),
			},
			wantOp: "other.Other_2020", wantProto: ProtocolJSON,
		},
		{
			name: "sns query", method: http.MethodPost, target: "/",
			headers: map[string]string{"Content-Type": form, "Authorization": auth("sns")},
			body:    "Action=Publish&Version=2010-03-31&TopicArn=x",
			wantOp:  "SNS.Publish", wantProto: ProtocolQuery,
		},
		{
			name: "query without signature", method: http.MethodPost, target: "/",
			headers: map[string]string{"Content-Type": form},
			body:    "Action=Publish&Message=hi",
			wantOp:  "unknown.Publish", wantProto: ProtocolQuery,
		},
		{
			name: "form without action", method: http.MethodPost, target: "/x",
			headers: map[string]string{"Content-Type": form},
			body:    "Message=hi",
			wantOp:  "unknown.POST /x", wantProto: ProtocolJSON,
		},
		{
			name: "action in URL", method: http.MethodGet, target: "/?Action=ListTopics",
			headers: map[string]string{"Authorization": auth("sns")},
			wantOp:  "SNS.ListTopics", wantProto: ProtocolQuery,
		},
		{
			name: "s3 put object", method: http.MethodPut, target: "/bucket/a/b",
			headers: map[string]string{"Authorization": auth("s3")},
			body:    "x",
			wantOp:  "S3.PutObject", wantProto: ProtocolS3,
		},
		{
			name: "s3 copy object", method: http.MethodPut, target: "/bucket/b",
			headers: map[string]string{
				"Authorization":     auth("s3"),
				"X-Amz-Copy-Source": "/bucket/a",
			},
			wantOp: "S3.CopyObject", wantProto: ProtocolS3,
		},
		{
			name: "s3 presigned put", method: http.MethodPut,
			target: "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" +
				url.QueryEscape("testing/20260101/us-east-1/s3/aws4_request"),
			wantOp: "S3.PutObject", wantProto: ProtocolS3,
		},
		{
			name: "s3 list objects v2", method: http.MethodGet, target: "/bucket?list-type=2",
			headers: map[string]string{"Authorization": auth("s3")},
			wantOp:  "S3.ListObjectsV2", wantProto: ProtocolS3,
		},
		{
			name: "s3 bucket policy", method: http.MethodPut, target: "/bucket?policy",
			headers: map[string]string{"Authorization": auth("s3")},
			wantOp:  "S3.PUT /bucket", wantProto: ProtocolS3,
		},
		{
			name: "connect", method: http.MethodConnect, target: "/",
			host:   "ecr.us-east-1.amazonaws.com:443",
			wantOp: "CONNECT ecr.us-east-1.amazonaws.com:443", wantProto: ProtocolJSON,
		},
		{
			name: "unsigned", method: http.MethodGet, target: "/latest/api/token",
			wantOp: "unknown.GET /latest/api/token", wantProto: ProtocolJSON,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.host != "" {
				r.Host = tt.host
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			op, proto := Operation(r)
			if op != tt.wantOp || proto != tt.wantProto {
				t.Errorf("got %q, %d, want %q, %d", op, proto, tt.wantOp, tt.wantProto)
			}
			// The body is still there for a proxy to forward.
			rest, err := io.ReadAll(r.Body)
			if err != nil || string(rest) != tt.body {
				t.Errorf("got body %q, %v after Operation, want %q", rest, err, tt.body)
			}
		})
	}
}
