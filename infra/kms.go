package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// stageKey resolves the kmsKey setting into the stage's one key, by ARN:
// nil for AWS's own keys (""), a customer-managed key created here with
// rotation on and an alias (KMSKeyCreate), or the ARN of an existing key.
// One key for the whole stage: the ledger or database, every log group,
// the functions' environment, the digests, the notifications.
//
// A created key is kept on destroy when keep is set: when the stage leaves
// data behind encrypted with it, such as Aurora's final snapshot, deleting
// the key would make that data unreadable after its waiting period. Its
// alias is not kept, so the stage can be created again under the same name.
func stageKey(ctx *pulumi.Context, n names, setting string, keep bool, account Account, opts pulumi.ResourceOption) (pulumi.StringPtrInput, error) {
	switch setting {
	case "":
		return nil, nil
	case KMSKeyCreate:
		k, err := kms.NewKey(ctx, "key", &kms.KeyArgs{
			Description:          pulumi.Sprintf("Encrypts the %s stage's data", n.prefix()),
			EnableKeyRotation:    pulumi.Bool(true),
			DeletionWindowInDays: pulumi.Int(30),
			Policy:               keyPolicyJSON(n, account),
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

// keyActions are what a service that encrypts with the key needs.
var keyActions = []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}

// keyPolicyJSON is the stage key's policy: the account administers the key
// through IAM (as a key's default policy lets it), and CloudWatch Logs in
// this region may use it for this stage's log groups only, named by the
// encryption context it gives KMS. A key given by ARN must carry the same
// statements (the README lists them).
func keyPolicyJSON(n names, account Account) pulumi.StringOutput {
	return pulumi.All(account.Partition, account.Region, account.ID).ApplyT(func(v []any) (string, error) {
		partition, region, id := v[0].(string), v[1].(string), v[2].(string)
		var groups []string
		for _, name := range n.logGroupPatterns() {
			groups = append(groups, fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", partition, region, id, name))
		}
		return marshalPolicy(PolicyDocument{Version: "2012-10-17", Statement: []Statement{
			accountAdministers(partition, id, []string{"kms:*"}, "*"),
			{Sid: "CloudWatchLogsForThisStage", Effect: "Allow", Principal: &Principal{Service: []string{"logs." + region + ".amazonaws.com"}},
				Action: keyActions, Resource: []string{"*"},
				Condition: Condition{"ArnLike": {"kms:EncryptionContext:aws:logs:arn": groups}}},
			cloudWatchKeyStatement(id),
		}})
	}).(pulumi.StringOutput)
}
