// Command bootstrap is the Lambda handler: the executable the function
// package zips for the provided.al2023 runtime. One binary serves every
// function of the stack; Lambda passes the function's handler setting as
// _HANDLER, which selects the entrypoint.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

func main() {
	switch entry := os.Getenv("_HANDLER"); entry {
	case "api":
		lambda.Start(httpadapter.New(http.HandlerFunc(status)).ProxyWithContext)
	case "migrate":
		lambda.Start(migrate)
	default:
		fmt.Fprintf(os.Stderr, "bootstrap: unknown entrypoint %q: want api or migrate\n", entry)
		os.Exit(2)
	}
}

// status answers every request with the service's name, so a deployed
// stage can be seen to answer before the licence routes exist.
func status(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"service": "licences", "path": r.URL.Path})
}

// migrate is the schema migration. Until the ledger store exists it fails,
// so a deployment cannot look as if it had created the schema.
func migrate(context.Context, json.RawMessage) (string, error) {
	return "", errors.New("schema migration is not built yet")
}
