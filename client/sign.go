package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Service is the name API Gateway's AWS_IAM authorisation signs under.
const Service = "execute-api"

// SigV4 signs requests with AWS Signature Version 4 for API Gateway, with
// the AWS SDK's own signer.
type SigV4 struct {
	credentials aws.CredentialsProvider
	region      string
	signer      *v4.Signer
	now         func() time.Time
}

// NewSigV4 signs with credentials for region.
func NewSigV4(credentials aws.CredentialsProvider, region string) *SigV4 {
	return &SigV4{credentials: credentials, region: region, signer: v4.NewSigner(), now: time.Now}
}

// DefaultSigV4 signs with the SDK's default credential chain (environment,
// shared files and profiles, SSO, container and instance roles), for the
// region the API's URL names (ID.execute-api.REGION.amazonaws.com), or
// else the SDK's configured region.
func DefaultSigV4(ctx context.Context, apiURL string) (*SigV4, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	region := RegionOf(apiURL)
	if region == "" {
		region = cfg.Region
	}
	if region == "" {
		return nil, fmt.Errorf("no region: %s does not name one, and no AWS region is configured (AWS_REGION)", apiURL)
	}
	return NewSigV4(cfg.Credentials, region), nil
}

// apiHost is an API Gateway endpoint's host, naming its region.
var apiHost = regexp.MustCompile(`^[a-z0-9]+\.execute-api\.([a-z]{2}(?:-[a-z]+)+-[0-9])\.amazonaws\.com(?:\.cn)?$`)

// RegionOf is the region an API Gateway URL names; "" for another URL.
func RegionOf(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil {
		return ""
	}
	m := apiHost.FindStringSubmatch(u.Hostname())
	if m == nil {
		return ""
	}
	return m[1]
}

// Sign implements Signer.
func (s *SigV4) Sign(ctx context.Context, r *http.Request, payloadHash string) error {
	creds, err := s.credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("AWS credentials: %w", err)
	}
	return s.signer.SignHTTP(ctx, creds, r, payloadHash, Service, s.region, s.now())
}

// payloadHash is the hex SHA-256 of a body, as SigV4 signs it.
func payloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
