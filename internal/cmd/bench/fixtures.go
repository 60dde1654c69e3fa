package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// motoConfig returns an SDK configuration for moto at endpoint.
func motoConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// createTopic creates an SNS topic in moto and returns its ARN.
func createTopic(ctx context.Context, cfg aws.Config, name string) (string, error) {
	out, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{
		Name: aws.String(name),
	})
	if err != nil {
		return "", fmt.Errorf("creating topic %q: %w", name, err)
	}
	return aws.ToString(out.TopicArn), nil
}

// pushScannedImage creates repository in moto, puts an image manifest with a
// random layer into it under tag, starts its scan (which moto completes at
// once with one HIGH finding) and returns the image digest.
func pushScannedImage(ctx context.Context, cfg aws.Config, repository, tag string) (string,
	error) {
	client := ecr.NewFromConfig(cfg)
	_, err := client.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName: aws.String(repository),
	})
	if err != nil {
		return "", fmt.Errorf("creating repository %q: %w", repository, err)
	}
	out, err := client.PutImage(ctx, &ecr.PutImageInput{
		RepositoryName:         aws.String(repository),
		ImageManifest:          aws.String(imageManifest()),
		ImageManifestMediaType: aws.String("application/vnd.docker.distribution.manifest.v2+json"),
		ImageTag:               aws.String(tag),
	})
	if err != nil {
		return "", fmt.Errorf("putting image into %q: %w", repository, err)
	}
	digest := aws.ToString(out.Image.ImageId.ImageDigest)
	_, err = client.StartImageScan(ctx, &ecr.StartImageScanInput{
		RepositoryName: aws.String(repository),
		ImageId:        &ecrtypes.ImageIdentifier{ImageDigest: aws.String(digest)},
	})
	if err != nil {
		return "", fmt.Errorf("starting scan of %s in %q: %w", digest, repository, err)
	}
	return digest, nil
}

// imageManifest returns a Docker schema 2 manifest with one layer of random
// digest, so every push is a new image.
func imageManifest() string {
	layer := make([]byte, 32)
	_, _ = rand.Read(layer)
	config := sha256.Sum256(layer)
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.docker.distribution.manifest.v2+json",
		"config": map[string]any{
			"mediaType": "application/vnd.docker.container.image.v1+json",
			"size":      1469,
			"digest":    "sha256:" + hex.EncodeToString(config[:]),
		},
		"layers": []map[string]any{{
			"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
			"size":      2814446,
			"digest":    "sha256:" + hex.EncodeToString(layer),
		}},
	}
	b, _ := json.Marshal(m)
	return string(b)
}
