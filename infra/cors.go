package infra

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// corsAllowHeaders are the request headers a browser may send.
const corsAllowHeaders = "Content-Type,Idempotency-Key,Authorization,X-Amz-Date,X-Api-Key,X-Amz-Security-Token"

// quoted is a static value in API Gateway's mapping syntax.
func quoted(s string) pulumi.String { return pulumi.String("'" + s + "'") }

// preflight answers CORS preflight requests for path in API Gateway itself,
// with a MOCK integration: the function is not invoked for them.
func (t *resourceTree) preflight(path string, methods []string, origin string) ([]pulumi.Resource, error) {
	id, err := t.resource(path)
	if err != nil {
		return nil, err
	}
	allowed := append(slices.Clone(methods), "OPTIONS")
	logical := t.name + "-options" + t.logicalPath(path)
	method, err := apigateway.NewMethod(t.ctx, logical, &apigateway.MethodArgs{
		RestApi:       t.api.ID(),
		ResourceId:    id,
		HttpMethod:    pulumi.String("OPTIONS"),
		Authorization: pulumi.String("NONE"),
	}, t.opts)
	if err != nil {
		return nil, fmt.Errorf("create preflight method %s: %w", path, err)
	}
	integration, err := apigateway.NewIntegration(t.ctx, logical, &apigateway.IntegrationArgs{
		RestApi:          t.api.ID(),
		ResourceId:       id,
		HttpMethod:       method.HttpMethod,
		Type:             pulumi.String("MOCK"),
		RequestTemplates: pulumi.StringMap{"application/json": pulumi.String(`{"statusCode": 204}`)},
	}, t.opts)
	if err != nil {
		return nil, fmt.Errorf("create preflight integration %s: %w", path, err)
	}
	const header = "method.response.header.Access-Control-Allow-"
	response, err := apigateway.NewMethodResponse(t.ctx, logical, &apigateway.MethodResponseArgs{
		RestApi:    t.api.ID(),
		ResourceId: id,
		HttpMethod: method.HttpMethod,
		StatusCode: pulumi.String("204"),
		ResponseParameters: pulumi.BoolMap{
			header + "Headers": pulumi.Bool(true),
			header + "Methods": pulumi.Bool(true),
			header + "Origin":  pulumi.Bool(true),
		},
	}, t.opts)
	if err != nil {
		return nil, fmt.Errorf("create preflight response %s: %w", path, err)
	}
	integrationResponse, err := apigateway.NewIntegrationResponse(t.ctx, logical, &apigateway.IntegrationResponseArgs{
		RestApi:    t.api.ID(),
		ResourceId: id,
		HttpMethod: method.HttpMethod,
		StatusCode: response.StatusCode,
		ResponseParameters: pulumi.StringMap{
			header + "Headers": quoted(corsAllowHeaders),
			header + "Methods": quoted(strings.Join(allowed, ",")),
			header + "Origin":  quoted(origin),
		},
	}, t.opts, pulumi.DependsOn([]pulumi.Resource{integration}))
	if err != nil {
		return nil, fmt.Errorf("create preflight integration response %s: %w", path, err)
	}
	return []pulumi.Resource{method, integration, response, integrationResponse}, nil
}

// gatewayResponses makes the errors API Gateway answers by itself look like
// the function's: application/problem+json with the CORS origin. An unknown
// route answers 404, not API Gateway's 403 "Missing Authentication Token".
func gatewayResponses(ctx *pulumi.Context, name string, api *apigateway.RestApi, origin string, opts pulumi.ResourceOption) ([]pulumi.Resource, error) {
	params := pulumi.StringMap{
		"gatewayresponse.header.Access-Control-Allow-Origin": quoted(origin),
		"gatewayresponse.header.Content-Type":                quoted("application/problem+json"),
	}
	// The problem document: title and detail come from API Gateway's own
	// error, the status from the response (it is fixed only for 404).
	problem := func(status string) pulumi.StringMap {
		doc := `{"type":"about:blank","title":"$context.error.responseType",`
		if status != "" {
			doc += `"status":` + status + `,`
		}
		doc += `"detail":$context.error.messageString,"requestId":"$context.requestId"}`
		return pulumi.StringMap{"application/json": pulumi.String(doc)}
	}
	var out []pulumi.Resource
	for _, r := range []struct{ kind, status string }{
		{"MISSING_AUTHENTICATION_TOKEN", "404"},
		{"DEFAULT_4XX", ""},
		{"DEFAULT_5XX", ""},
	} {
		args := &apigateway.ResponseArgs{
			RestApiId:          api.ID().ToStringOutput(),
			ResponseType:       pulumi.String(r.kind),
			ResponseParameters: params,
			ResponseTemplates:  problem(r.status),
		}
		if r.status != "" {
			args.StatusCode = pulumi.String(r.status)
		}
		res, err := apigateway.NewResponse(ctx, name+"-"+strings.ToLower(strings.ReplaceAll(r.kind, "_", "-")), args, opts)
		if err != nil {
			return nil, fmt.Errorf("create gateway response %s: %w", r.kind, err)
		}
		out = append(out, res)
	}
	return out, nil
}
