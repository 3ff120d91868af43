package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// stageKey resolves the kmsKey setting into the stage's one key, by ARN:
// nil for AWS's own keys (""), a customer-managed key created here with
// rotation on and an alias (KMSKeyCreate), or the ARN of an existing key.
//
// A created key is kept on destroy when keep is set: when the stage leaves
// data behind encrypted with it, such as Aurora's final snapshot, deleting
// the key would make that data unreadable after its waiting period. Its
// alias is not kept, so the stage can be created again under the same name.
func stageKey(ctx *pulumi.Context, n names, setting string, keep bool, opts pulumi.ResourceOption) (pulumi.StringPtrInput, error) {
	switch setting {
	case "":
		return nil, nil
	case KMSKeyCreate:
		k, err := kms.NewKey(ctx, "key", &kms.KeyArgs{
			Description:          pulumi.Sprintf("Encrypts the %s stage's data", n.prefix()),
			EnableKeyRotation:    pulumi.Bool(true),
			DeletionWindowInDays: pulumi.Int(30),
		}, opts, pulumi.RetainOnDelete(keep))
		if err != nil {
			return nil, fmt.Errorf("create key: %w", err)
		}
		if _, err := kms.NewAlias(ctx, "key", &kms.AliasArgs{
			Name:        pulumi.String("alias/" + n.prefix()),
			TargetKeyId: k.KeyId,
		}, opts); err != nil {
			return nil, fmt.Errorf("create key alias: %w", err)
		}
		return k.Arn, nil
	}
	return pulumi.String(setting), nil
}
