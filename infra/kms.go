package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// encryptionKey resolves the kmsKey setting: nil for an AWS-owned or
// AWS-managed key (""), a key created here with rotation on and an alias
// (KMSKeyCreate), or the ARN of an existing key.
func encryptionKey(ctx *pulumi.Context, name, alias, setting string, opts ...pulumi.ResourceOption) (pulumi.StringPtrInput, error) {
	switch setting {
	case "":
		return nil, nil
	case KMSKeyCreate:
		k, err := kms.NewKey(ctx, name, &kms.KeyArgs{
			Description:          pulumi.Sprintf("Encrypts %s", alias),
			EnableKeyRotation:    pulumi.Bool(true),
			DeletionWindowInDays: pulumi.Int(30),
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("create key: %w", err)
		}
		if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{
			Name:        pulumi.String("alias/" + alias),
			TargetKeyId: k.KeyId,
		}, opts...); err != nil {
			return nil, fmt.Errorf("create key alias: %w", err)
		}
		return k.Arn, nil
	}
	return pulumi.String(setting), nil
}
