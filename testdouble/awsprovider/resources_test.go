package main

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

const bucketURN = "urn:pulumi:dev::licences::licences:infra:Engine$licences:infra:DigestBucket$aws:s3/bucketV2:BucketV2::digests"

// A bucket given a prefix is named as the provider names it, anew at each
// creation: a second stage of the same name gets a bucket of its own while
// the first one's is kept. A bucket given its name cannot be made twice.
func TestABucketIsNamedFromItsPrefixAtEachCreation(t *testing.T) {
	p := &standin{region: "eu-west-2"}
	a := newAccountState()
	var names []string
	for range 2 {
		in := resource.PropertyMap{"bucketPrefix": resource.NewPropertyValue("licences-dev-digests-")}
		if err := p.create(a, bucketURN, in); err != nil {
			t.Fatalf("create: %v", err)
		}
		_, outs, err := p.state(bucketURN, in)
		if err != nil {
			t.Fatal(err)
		}
		m, err := unmarshal(outs)
		if err != nil {
			t.Fatal(err)
		}
		name := str(m, "bucket")
		if !strings.HasPrefix(name, "licences-dev-digests-") || len(name) != len("licences-dev-digests-")+26 || str(m, "arn") != "arn:aws:s3:::"+name {
			t.Errorf("bucket %q, arn %q: want the prefix and 26 characters of the provider's", name, str(m, "arn"))
		}
		names = append(names, name)
		// The stage is destroyed; the bucket, retained, is not deleted.
	}
	if names[0] == names[1] {
		t.Errorf("two creations named %s alike", names[0])
	}
	fixed := resource.PropertyMap{"bucket": resource.NewPropertyValue(names[0])}
	if err := p.create(a, bucketURN+"-again", fixed); err == nil || !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		t.Errorf("creating the kept bucket's name again: %v, want BucketAlreadyOwnedByYou", err)
	}
}

// An update keeps the name the bucket was given at its creation.
func TestAnUpdateKeepsTheBucketsName(t *testing.T) {
	olds := resource.PropertyMap{"bucketPrefix": resource.NewPropertyValue("p-"), "bucket": resource.NewPropertyValue("p-x")}
	news := resource.PropertyMap{"bucketPrefix": resource.NewPropertyValue("p-")}
	keepName("aws:s3/bucketV2:BucketV2", olds, news)
	if str(news, "bucket") != "p-x" {
		t.Errorf("after an update the bucket is %q, want p-x", str(news, "bucket"))
	}
}

// A role's name stays taken while the account holds the role, whoever made
// it and whether or not a stack still holds it (a destroy that retains it
// leaves it in the account): IAM answers a second CreateRole of the name
// with EntityAlreadyExists, as it would for the stack that made it.
func TestARetainedRoleKeepsItsNameTaken(t *testing.T) {
	a := newAccountState()
	p := &standin{region: "eu-west-2"}
	in := resource.NewPropertyMapFromMap(map[string]any{"name": "licences-apigateway-cloudwatch-eu-west-2"})
	first := "urn:pulumi:prod::licences::licences:infra:API$aws:iam/role:Role::api-cloudwatch"
	if err := p.create(a, first, in); err != nil {
		t.Fatal(err)
	}
	for _, urn := range []string{first, "urn:pulumi:dev::licences::licences:infra:API$aws:iam/role:Role::api-cloudwatch"} {
		if err := p.create(a, urn, in); err == nil || !strings.Contains(err.Error(), "EntityAlreadyExists") {
			t.Errorf("creating the role again as %s: %v, want EntityAlreadyExists", urn, err)
		}
	}
}
