package main

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
)

// eventSeq numbers the events this program makes, so each has its own id.
var eventSeq atomic.Int64

// eventID returns a new event id.
func eventID() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", eventSeq.Add(1))
}

// ensureRequest returns a self-service request for repository with scan on
// push and immutable tags, the settings the AWS CLI script sets too.
func ensureRequest(repository string) []byte {
	return eventJSON("ECR Repository Request", requestSource, nil, map[string]any{
		"RepositoryName":             repository,
		"ImageScanningConfiguration": map[string]any{"ScanOnPush": true},
		"ImageTagMutability":         "IMMUTABLE",
	})
}

// scanEvent returns a basic scan's ECR Image Scan event for the image
// repository@digest with the given severity counts.
func scanEvent(repository, digest string, counts map[string]int) []byte {
	resource := "arn:aws:ecr:" + region + ":" + account + ":repository/" + repository
	return eventJSON("ECR Image Scan", "aws.ecr", []string{resource}, map[string]any{
		"scan-status":             "COMPLETE",
		"repository-name":         repository,
		"finding-severity-counts": counts,
		"image-digest":            digest,
		"image-tags":              []string{"1.0.0"},
	})
}

// eventJSON returns an EventBridge event.
func eventJSON(detailType, source string, resources []string, detail any) []byte {
	if resources == nil {
		resources = []string{}
	}
	b, _ := json.Marshal(map[string]any{
		"version":     "0",
		"id":          eventID(),
		"detail-type": detailType,
		"source":      source,
		"account":     account,
		"time":        "2024-01-01T00:00:00Z",
		"region":      region,
		"resources":   resources,
		"detail":      detail,
	})
	return b
}
