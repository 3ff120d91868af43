package infra

import (
	"fmt"
	"slices"
	"strconv"
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

// gatewayResponse is one of API Gateway's own answers, reworded.
type gatewayResponse struct {
	Kind   string // the response type
	Status string // "" keeps API Gateway's status
	Title  string // "" uses the response type
}

// gatewayAnswers are API Gateway's own answers as the API gives them. The
// four a caller meets when it is not let in are 403s with titles of their
// own; API Gateway cannot tell an unsigned request from one to an unknown
// route (both are MISSING_AUTHENTICATION_TOKEN), so an unknown route is a
// 403 too.
var gatewayAnswers = []gatewayResponse{
	{"MISSING_AUTHENTICATION_TOKEN", "403", "Missing authentication"},
	{"INVALID_SIGNATURE", "403", "Invalid signature"},
	{"EXPIRED_TOKEN", "403", "Expired credentials"},
	{"ACCESS_DENIED", "403", "Access denied"},
	{"WAF_FILTERED", "403", "Blocked by the firewall"},
	{"DEFAULT_4XX", "", ""},
	{"DEFAULT_5XX", "", ""},
}

// gatewayResponses makes the errors API Gateway answers by itself look like
// the function's: application/problem+json with the CORS origin. It
// returns them and what they are, for the deployment's triggers.
func gatewayResponses(ctx *pulumi.Context, name string, api *apigateway.RestApi, origin string, opts pulumi.ResourceOption) ([]pulumi.Resource, any, error) {
	params := pulumi.StringMap{
		"gatewayresponse.header.Access-Control-Allow-Origin": quoted(origin),
		"gatewayresponse.header.Content-Type":                quoted("application/problem+json"),
	}
	var out []pulumi.Resource
	for _, r := range gatewayAnswers {
		args := &apigateway.ResponseArgs{
			RestApiId:          api.ID().ToStringOutput(),
			ResponseType:       pulumi.String(r.Kind),
			ResponseParameters: params,
			ResponseTemplates:  pulumi.StringMap{"application/json": pulumi.String(r.problem())},
		}
		if r.Status != "" {
			args.StatusCode = pulumi.String(r.Status)
		}
		res, err := apigateway.NewResponse(ctx, name+"-"+strings.ToLower(strings.ReplaceAll(r.Kind, "_", "-")), args, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("create gateway response %s: %w", r.Kind, err)
		}
		out = append(out, res)
	}
	return out, struct {
		Answers []gatewayResponse
		Origin  string
	}{gatewayAnswers, origin}, nil
}

// problem is the response's body template: a problem document whose detail
// is API Gateway's own message and whose status is fixed where it is.
func (r gatewayResponse) problem() string {
	title := `"$context.error.responseType"`
	if r.Title != "" {
		title = strconv.Quote(r.Title)
	}
	doc := `{"type":"about:blank","title":` + title + `,`
	if r.Status != "" {
		doc += `"status":` + r.Status + `,`
	}
	return doc + `"detail":$context.error.messageString,"requestId":"$context.requestId"}`
}
