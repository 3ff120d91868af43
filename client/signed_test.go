package client_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/privateledger/licences/client"
	"github.com/privateledger/licences/testdouble/apigateway"
	"github.com/privateledger/licences/testdouble/localapi"
)

// signedAs signs as the SDK's signer does, for any service and region: a
// client that gets either wrong.
type signedAs struct {
	creds           aws.Credentials
	service, region string
}

func (s signedAs) Sign(ctx context.Context, r *http.Request, payloadHash string) error {
	return v4.NewSigner().SignHTTP(ctx, s.creds, r, payloadHash, s.service, s.region, time.Now())
}

// Through a gateway that verifies each signature with the SDK's own
// signer, the client's requests are admitted and recorded as the
// principal whose key signed them; a wrong region, service or secret, or
// no signature, is refused.
func TestSignedRequestsAreVerifiedByTheSDKsSigner(t *testing.T) {
	const (
		region    = "eu-west-2"
		principal = "arn:aws:sts::123456789012:assumed-role/licence-clerk/jo"
	)
	keys := map[string]apigateway.Key{"AKIDCLERK": {Secret: "clerk-secret", Principal: principal}}
	srv := localapi.ServeSigned(t, localapi.Open(t, "aurora-postgresql", pg), region, keys)
	api := srv.URL + "/test"
	good := aws.Credentials{AccessKeyID: "AKIDCLERK", SecretAccessKey: "clerk-secret", SessionToken: "session"}
	ctx := context.Background()

	c, err := client.New(api, client.WithSigner(client.NewSigV4(credentials.StaticCredentialsProvider{Value: good}, region)))
	if err != nil {
		t.Fatal(err)
	}
	made, err := c.Create(ctx, jo, "")
	if err != nil || made.Licence.LastEvent.Actor.Principal != principal {
		t.Fatalf("signed create: %+v, %v; want it recorded as %s", made, err, principal)
	}
	var n int
	for _, err := range c.History(ctx, made.Licence.ID, 1) {
		if err != nil {
			t.Fatalf("signed history with a query: %v", err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("history: %d revisions, want 1", n)
	}

	for _, refused := range []struct {
		name   string
		signer client.Signer
		title  string
	}{
		{"another region", signedAs{good, "execute-api", "us-east-1"}, "Invalid signature"},
		{"another service", signedAs{good, "lambda", region}, "Invalid signature"},
		{"a wrong secret", signedAs{aws.Credentials{AccessKeyID: "AKIDCLERK", SecretAccessKey: "guess"}, "execute-api", region}, "Invalid signature"},
		{"no signature", nil, "Missing authentication"},
	} {
		t.Run(refused.name, func(t *testing.T) {
			c, err := client.New(api, client.WithSigner(refused.signer))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Get(ctx, made.Licence.ID)
			if p := asProblem(t, refused.name, err, http.StatusForbidden); p.Title != refused.title {
				t.Errorf("%s: %+v, want %q", refused.name, p, refused.title)
			}
		})
	}
}

// The region comes from an API Gateway URL.
func TestRegionOf(t *testing.T) {
	for url, want := range map[string]string{
		"https://a1b2c3d4e5.execute-api.eu-west-2.amazonaws.com/dev":      "eu-west-2",
		"https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod": "cn-north-1",
		"https://a1b2c3d4e5.execute-api.us-gov-west-1.amazonaws.com/dev":  "us-gov-west-1",
		"http://127.0.0.1:8080": "",
		"https://execute-api.eu-west-2.amazonaws.com.evil.example/dev": "",
	} {
		if got := client.RegionOf(url); got != want {
			t.Errorf("RegionOf(%s) = %q, want %q", url, got, want)
		}
	}
}
