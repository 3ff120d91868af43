// Package digeststore keeps the ledger's digests in S3, as the digest
// function reads and writes them: one object in a bucket that is
// versioned and under Object Lock, each digest a version of it that no one
// can change or delete until its retention ends. The newest version is the
// one the next run checks the ledger against.
package digeststore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/privateledger/licences/function/pgstore"
)

// Key is the object the digests are versions of. The stack grants the
// digest role this object alone (infra's digestKey).
const Key = "ledger-digest.json"

// maxDigestBytes bounds what Newest reads: far more than a digest.
const maxDigestBytes = 16 << 20

// Store is a digest bucket.
type Store struct {
	client *s3.Client
	bucket string
}

// Open returns the store in bucket: in AWS's S3 when endpoint is "", or
// else at endpoint, path-style, signed with the key of the local stand-in
// (testdouble/locals3). optFns adjust the client, as s3.NewFromConfig's do.
func Open(ctx context.Context, bucket, endpoint string, optFns ...func(*s3.Options)) (*Store, error) {
	var opts []func(*config.LoadOptions) error
	if endpoint != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")), config.WithDefaultRegion("local"))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	client := s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint, o.UsePathStyle = aws.String(endpoint), true
		}
	}}, optFns...)...)
	return &Store{client: client, bucket: bucket}, nil
}

// Newest reads the newest digest; nil before the first.
//
// S3 answers a missing key with 404 NoSuchKey only to a caller that may
// list the bucket (s3:ListBucket); to any other it answers 403
// AccessDenied, whether the key exists or not
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
// Only NoSuchKey means there is no digest yet: AccessDenied is the error it
// says, a permission the stack failed to grant, and reading it as "no
// digest yet" would start the chain afresh, unchecked, on every run.
func (s *Store) Newest(ctx context.Context) (*pgstore.Digest, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(Key)})
	var missing *types.NoSuchKey
	switch {
	case errors.As(err, &missing):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read the previous digest: %w", err)
	}
	defer func() { _ = out.Body.Close() }() // read in full below
	b, err := io.ReadAll(io.LimitReader(out.Body, maxDigestBytes))
	if err != nil {
		return nil, fmt.Errorf("read the previous digest: %w", err)
	}
	var d pgstore.Digest
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("the previous digest is not a digest: %w", err)
	}
	return &d, nil
}

// Put writes d as the newest digest and returns its version's id. The
// upload carries a SHA-256 checksum: Object Lock refuses one without.
func (s *Store) Put(ctx context.Context, d pgstore.Digest) (string, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("encode the digest: %w", err)
	}
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(Key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		return "", fmt.Errorf("write the digest: %w", err)
	}
	return aws.ToString(out.VersionId), nil
}
