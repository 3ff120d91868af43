// Command bootstrap is the Lambda handler: the executable the function
// package zips for the provided.al2023 runtime.
package main

import (
	"encoding/json"
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

func main() {
	lambda.Start(httpadapter.New(http.HandlerFunc(status)).ProxyWithContext)
}

// status answers every request with the service's name, so a deployed
// stage can be seen to answer before the licence routes exist.
func status(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"service": "licences", "path": r.URL.Path})
}
