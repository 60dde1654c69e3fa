package findings

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/ecr-stack/ecr-stack/internal/scan"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// motoRegistry is the account moto answers as.
const motoRegistry = "123456789012"

// setScanResult makes moto answer DescribeImageScanFindings for digest in
// repository with the response in testdata/file, through moto's own API.
func setScanResult(t *testing.T, motoURL, file, repository, digest string) {
	t.Helper()
	var result map[string]any
	if err := json.Unmarshal([]byte(sample(t, file)), &result); err != nil {
		t.Fatal(err)
	}
	result["repositoryName"] = repository
	result["imageId"] = map[string]string{"imageDigest": digest}
	body, _ := json.Marshal(map[string]any{"results": []any{result}, "region": testsupport.Region})
	resp, err := http.Post(motoURL+"/moto-api/static/ecr/scan-finding-results",
		"application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("setting scan result: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("setting scan result: got status %d", resp.StatusCode)
	}
}

func TestReadMoto(t *testing.T) {
	m := testsupport.Moto(t)
	cfg := testsupport.AWSConfig(t, m.URL)
	client := ecr.NewFromConfig(cfg)
	ctx := context.Background()

	t.Run("basic scan", func(t *testing.T) {
		repo := testsupport.UniqueName(t, 60)
		digest := testsupport.PushScannedImage(t, cfg, repo, "1.0.0")
		img := Image{RegistryID: motoRegistry, Repository: repo, Digest: digest}
		res, err := New(client, Options{}).Read(ctx, img)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		want := []scan.Finding{{
			ID:        "CVE-9999-9999",
			Severity:  scan.High,
			Score:     7.5,
			Package:   "moto_fake",
			Installed: "9.9.9",
			URI:       "https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-9999-9999",
		}}
		if !slices.Equal(res.Findings, want) {
			t.Errorf("got findings %+v, want %+v", res.Findings, want)
		}
		if res.Status != "COMPLETE" || res.Pages != 1 || res.Counts.String() != "1 HIGH" {
			t.Errorf("got status %q, %d pages, counts %q; want COMPLETE, 1, \"1 HIGH\"",
				res.Status, res.Pages, res.Counts)
		}
	})

	t.Run("enhanced scan", func(t *testing.T) {
		repo := testsupport.UniqueName(t, 60)
		digest := testsupport.PushImage(t, cfg, repo, "1.0.0")
		testsupport.ScanImage(t, cfg, repo, digest)
		setScanResult(t, m.URL, "describe-image-scan-findings-enhanced.json", repo, digest)
		res, err := New(client, Options{}).Read(ctx, Image{Repository: repo, Digest: digest})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(res.Findings) != 1 {
			t.Fatalf("got %d findings, want 1", len(res.Findings))
		}
		f := res.Findings[0]
		if f.ID != "CVE-0000-00001" || f.Severity != scan.High || f.Score != 8.1 ||
			f.Package != "example-lib" || f.Installed != "1.0.0-1" {
			t.Errorf("got finding %+v, want CVE-0000-00001 HIGH 8.1 example-lib 1.0.0-1", f)
		}
		if res.Status != "ACTIVE" {
			t.Errorf("got status %q, want ACTIVE", res.Status)
		}
	})

	t.Run("failed scan", func(t *testing.T) {
		repo := testsupport.UniqueName(t, 60)
		digest := testsupport.PushScannedImage(t, cfg, repo)
		setScanResult(t, m.URL, "describe-image-scan-findings-failed.json", repo, digest)
		res, err := New(client, Options{}).Read(ctx, Image{Repository: repo, Digest: digest})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		want := "UnsupportedImageError: The operating system and/or package manager are not supported."
		if !res.Failed() || res.Description != want {
			t.Errorf("got status %q %q, want FAILED %q", res.Status, res.Description, want)
		}
	})

	t.Run("not scanned", func(t *testing.T) {
		repo := testsupport.UniqueName(t, 60)
		digest := testsupport.PushImage(t, cfg, repo, "1.0.0")
		_, err := New(client, Options{}).Read(ctx, Image{Repository: repo, Digest: digest})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("got error %v, want ErrNotFound", err)
		}
	})

	t.Run("image gone", func(t *testing.T) {
		repo := testsupport.UniqueName(t, 60)
		testsupport.PushScannedImage(t, cfg, repo, "1.0.0")
		_, err := New(client, Options{}).Read(ctx, Image{Repository: repo, Digest: digest})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("got error %v, want ErrNotFound", err)
		}
	})
}
