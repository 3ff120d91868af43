package infra

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Account is where the stack deploys, as the provider reports it: ARNs and
// service names are built from these, never from hard-coded values.
type Account struct {
	Partition pulumi.StringOutput
	Region    pulumi.StringOutput
	ID        pulumi.StringOutput
}

// lookupAccount asks the provider for its partition, region and account.
func lookupAccount(ctx *pulumi.Context, provider pulumi.ProviderResource) Account {
	opt := pulumi.Provider(provider)
	return Account{
		Partition: aws.GetPartitionOutput(ctx, aws.GetPartitionOutputArgs{}, opt).Partition(),
		Region:    aws.GetRegionOutput(ctx, aws.GetRegionOutputArgs{}, opt).Name(),
		ID:        aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, opt).AccountId(),
	}
}

// arn builds the ARN of a resource of service in this account and region.
func (a Account) arn(service, resource string) pulumi.StringOutput {
	return pulumi.Sprintf("arn:%s:%s:%s:%s:%s", a.Partition, service, a.Region, a.ID, resource)
}

// endpointService is the name of an AWS service's interface endpoint here,
// such as com.amazonaws.eu-west-2.qldb.session.
func (a Account) endpointService(service string) pulumi.StringOutput {
	return pulumi.Sprintf("com.amazonaws.%s.%s", a.Region, service)
}

// findAccountRole asks IAM whether API Gateway's account role exists, by
// listing roles whose name matches it exactly: ListRoles answers an empty
// list where GetRole would fail (NoSuchEntity), so a fresh account is an
// answer, not an error.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html
func findAccountRole(ctx *pulumi.Context, name string, opt pulumi.InvokeOption) (AccountRole, error) {
	// The regex narrows the listing (the provider matches it anywhere in a
	// name); the role is the one whose name is exactly name.
	regex := regexp.QuoteMeta(name)
	found, err := iam.GetRoles(ctx, &iam.GetRolesArgs{NameRegex: &regex}, opt)
	if err != nil {
		return AccountRole{}, fmt.Errorf("look for api gateway's account role %s: %w", name, err)
	}
	return AccountRole{Name: name, Exists: slices.Contains(found.Names, name)}, nil
}
