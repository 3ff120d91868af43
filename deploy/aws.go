package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"gopkg.in/yaml.v3"
)

// checkAWS fails early, with a message that says what to do, when the stage
// has no region or the machine no AWS credentials: otherwise the engine
// would get far before the provider said so less plainly.
func checkAWS(ctx context.Context, dir, stage string, env map[string]string) error {
	b, err := os.ReadFile(filepath.Join(dir, "Pulumi."+stage+".yaml")) //nolint:gosec // G304: the stage was checked against the project's stack files
	if err != nil {
		return err
	}
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		return fmt.Errorf("read Pulumi.%s.yaml: %w", stage, err)
	}
	region, _ := file.Config["aws:region"].(string)
	if region == "" {
		return fmt.Errorf("stage %s has no AWS region: set aws:region in Pulumi.%s.yaml", stage, stage)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, credentialSources(env, file.Config)...)
	if err != nil {
		return fmt.Errorf("%w (%v)", ErrNoAWSCredentials, err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return fmt.Errorf("%w (%v)", ErrNoAWSCredentials, err)
	}
	return nil
}

// credentialSources are the credentials the engine will run with: those in
// env (the environment the engine gets, which Options.Env adds to), and the
// stack's own aws:profile, which the provider prefers to AWS_PROFILE.
func credentialSources(env map[string]string, stackConfig map[string]any) []func(*config.LoadOptions) error {
	var opts []func(*config.LoadOptions) error
	profile := env["AWS_PROFILE"]
	if p, _ := stackConfig["aws:profile"].(string); p != "" {
		profile = p
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	if id, secret := env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]; id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, env["AWS_SESSION_TOKEN"])))
	}
	return opts
}
