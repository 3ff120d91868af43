package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain keeps every test off the EC2 instance metadata service: the AWS
// credential check must never reach past this machine.
func TestMain(m *testing.M) {
	if err := os.Setenv("AWS_EC2_METADATA_DISABLED", "true"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// project writes a project directory with the given stack files.
func project(t *testing.T, stacks map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"Pulumi.yaml": "name: licences\nruntime: go\n"}
	for name, body := range stacks {
		files["Pulumi."+name+".yaml"] = body
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestStagesAreTheStackFiles(t *testing.T) {
	got, err := Stages("..")
	if err != nil || strings.Join(got, ",") != "dev,prod,qldb" {
		t.Errorf("Stages = %v, %v; want dev, prod, qldb", got, err)
	}
}

func TestErrorsBeforeTheEngine(t *testing.T) {
	withRegion := project(t, map[string]string{"dev": "config:\n  aws:region: eu-west-2\n"})
	noRegion := project(t, map[string]string{"dev": "config: {}\n"})
	for _, tc := range []struct {
		name string
		opts Options
		env  map[string]string
		want error
		text string
	}{
		{"no stage", Options{Dir: withRegion}, nil, errNoStage, ""},
		{"no project", Options{Stage: "dev", Dir: t.TempDir()}, nil, ErrNoProject, ""},
		{"unknown stage", Options{Stage: "qa", Dir: withRegion}, nil, nil, `unknown stage "qa": no Pulumi.qa.yaml; the stages are: dev`},
		{"no passphrase", Options{Stage: "dev", Dir: withRegion}, map[string]string{"PULUMI_CONFIG_PASSPHRASE": "", "PULUMI_CONFIG_PASSPHRASE_FILE": ""}, ErrNoPassphrase, ""},
		{"no region", Options{Stage: "dev", Dir: noRegion}, map[string]string{"PULUMI_CONFIG_PASSPHRASE": "x"}, nil, "has no AWS region"},
		{"no credentials", Options{Stage: "dev", Dir: withRegion}, map[string]string{
			"PULUMI_CONFIG_PASSPHRASE": "x", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "",
			"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
			"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "",
		}, ErrNoAWSCredentials, ""},
		{"no cli", Options{Stage: "dev", Dir: withRegion, PulumiRoot: t.TempDir(), SkipAWSCheck: true}, map[string]string{"PULUMI_CONFIG_PASSPHRASE": "x"}, ErrNoPulumiCLI, ""},
		// Credentials given in Options.Env, not in the process's own
		// environment, are the ones checked: the check passes, and the
		// missing CLI is what stops it.
		{"credentials in Env", Options{Stage: "dev", Dir: withRegion, PulumiRoot: t.TempDir(),
			Env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}}, map[string]string{
			"PULUMI_CONFIG_PASSPHRASE": "x", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "",
			"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
			"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "",
		}, ErrNoPulumiCLI, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Preview(context.Background(), tc.opts)
			if err == nil {
				t.Fatal("preview succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if tc.text != "" && !strings.Contains(err.Error(), tc.text) {
				t.Errorf("err = %v, want it to say %q", err, tc.text)
			}
		})
	}
}
