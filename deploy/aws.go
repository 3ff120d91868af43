package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
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
	if r, _ := file.Config["aws:region"].(string); r == "" {
		return fmt.Errorf("stage %s has no AWS region: run `pulumi config set aws:region <region> --stack %s`", stage, stage)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("%w (%v)", ErrNoAWSCredentials, err)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return fmt.Errorf("%w (%v)", ErrNoAWSCredentials, err)
	}
	return nil
}
