package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// accountEnv names the file that holds the stand-in AWS account: what
// outlives one provider process, as an account outlives one `pulumi up`.
// Every process of every stack in a test shares it, so two stages deployed
// into one account see each other's names and account-wide settings.
const accountEnv = "AWSPROVIDER_ACCOUNT"

// accountState is what the account holds beyond any one stack.
type accountState struct {
	// Names claims each physical name ("type name") for the resource (URN)
	// that holds it.
	Names map[string]string `json:"names"`
	// Inputs holds each named resource's inputs ("type name"), so an
	// import (a read by id, with nothing from any stack) finds what AWS
	// would describe, whichever stack made it and whether or not that
	// stack still holds it.
	Inputs map[string]map[string]any `json:"inputs"`
	// Roles maps IAM role names to their ARNs.
	Roles map[string]string `json:"roles"`
	// APIGatewayCloudWatchRole is the account setting API Gateway's access
	// logs need.
	APIGatewayCloudWatchRole string `json:"apiGatewayCloudWatchRole"`
	// NamedFromPrefix counts the resources the provider has named from a
	// prefix: each creation's suffix is the count's, so no two are alike,
	// even when the first is kept after its stack is gone.
	NamedFromPrefix int `json:"namedFromPrefix"`
}

// newAccountState is a fresh account: no names, roles or settings.
func newAccountState() *accountState {
	return &accountState{Names: map[string]string{}, Inputs: map[string]map[string]any{}, Roles: map[string]string{}}
}

// withAccount runs fn on the account, under an exclusive lock on its file,
// and saves what fn changed unless it fails.
func withAccount(fn func(a *accountState) error) error {
	path := os.Getenv(accountEnv)
	if path == "" {
		return fmt.Errorf("awsprovider: set %s to the stand-in account's state file", accountEnv)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	a := newAccountState()
	if len(b) > 0 {
		if err := json.Unmarshal(b, a); err != nil {
			return fmt.Errorf("awsprovider: the account file %s: %w", path, err)
		}
	}
	if a.Inputs == nil {
		a.Inputs = map[string]map[string]any{}
	}
	if err := fn(a); err != nil {
		return err
	}
	out, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	return errors.Join(f.Truncate(0), writeAt0(f, out))
}

func writeAt0(f *os.File, b []byte) error {
	_, err := f.WriteAt(b, 0)
	return err
}
