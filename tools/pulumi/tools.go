//go:build tools

// Package pulumi pins the Pulumi CLI the end-to-end test builds from the Go
// module proxy: the same version as the SDK the program uses. It is a
// module of its own so the CLI's dependencies never enter the program's.
package pulumi

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
