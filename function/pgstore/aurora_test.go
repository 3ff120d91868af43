package pgstore

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func TestRDSCABundleParses(t *testing.T) {
	rest := rdsCABundle
	var n, current int
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("certificate %d: %v", n, err)
		}
		if !cert.IsCA {
			t.Errorf("%s is not a CA", cert.Subject)
		}
		if time.Now().Before(cert.NotAfter) {
			current++
		}
		n++
	}
	if n < 100 || current == 0 {
		t.Errorf("%d certificates, %d current; want the regions' RDS authorities", n, current)
	}
	cfg, err := (Aurora{Host: "db.cluster-x.eu-west-2.rds.amazonaws.com"}).tlsConfig()
	if err != nil || cfg.ServerName != "db.cluster-x.eu-west-2.rds.amazonaws.com" || cfg.InsecureSkipVerify {
		t.Errorf("tls config %+v, %v: want verification of the cluster's name", cfg, err)
	}
}

// Opening the pool loads nothing: the AWS configuration and the RDS
// authorities are read when the first connection is made, and each
// connection gets verified TLS and a token signed for the configured
// region.
func TestOpenAuroraLoadsNothingUntilItConnects(t *testing.T) {
	const host = "db.cluster-x.eu-west-2.rds.amazonaws.com"
	loads := 0
	awsConfig := func(context.Context) (aws.Config, error) {
		loads++
		return aws.Config{Region: "eu-west-2", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}, nil
	}
	ctx := context.Background()
	pool, err := OpenAurora(ctx, Aurora{Host: host, Port: 5432, Database: "licences"}, "licences_api", awsConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if loads != 0 {
		t.Errorf("opening the pool loaded the AWS configuration %d times, want none", loads)
	}
	c := pool.Config().ConnConfig.Copy()
	if err := pool.Config().BeforeConnect(ctx, c); err != nil {
		t.Fatal(err)
	}
	if loads != 1 || c.TLSConfig == nil || c.TLSConfig.ServerName != host || c.TLSConfig.RootCAs == nil || c.TLSConfig.InsecureSkipVerify || len(c.Fallbacks) != 0 {
		t.Errorf("a connection's config: %d loads, TLS %+v, %d fallbacks; want verified TLS for %s and no fallback", loads, c.TLSConfig, len(c.Fallbacks), host)
	}
	if !strings.Contains(c.Password, "X-Amz-Credential=AKIDEXAMPLE%2F") || !strings.Contains(c.Password, "%2Feu-west-2%2Frds-db%2F") {
		t.Errorf("the IAM token %q is not signed for eu-west-2 by the configured key", c.Password)
	}
}
