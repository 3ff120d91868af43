module github.com/privateledger/licences

go 1.26.6

require (
	github.com/aws/aws-lambda-go v1.55.1
	github.com/awslabs/aws-lambda-go-api-proxy v0.16.2
)

require (
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/onsi/gomega v1.31.1 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
