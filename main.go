// Command licences is the Pulumi program that deploys one stage of the
// licence API: `pulumi up` runs it.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/infra"
)

func main() {
	pulumi.Run(infra.Run)
}
