package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/function/route"
)

// APIArgs configures an API.
type APIArgs struct {
	Name   string        // the REST API's name
	Stage  string        // the stage's name: the stack's
	Routes []route.Route // each is proxied to the function
	// FunctionName and FunctionInvokeARN are the Lambda function that serves
	// every route.
	FunctionName      pulumi.StringInput
	FunctionInvokeARN pulumi.StringInput

	ThrottleRateLimit  float64
	ThrottleBurstLimit int
	CORSAllowOrigin    string

	AccessLogGroupName string
	LogRetentionDays   int
	// AccountRole is API Gateway's account-wide CloudWatch role, which
	// access logging needs.
	AccountRole AccountRole
	Account     Account
	// Ready lists what must exist before the stage goes live, such as the
	// schema the function needs.
	Ready []pulumi.Resource
}

// API is a regional REST API whose routes are proxied to one Lambda function
// (AWS_PROXY), with CORS, throttling, JSON access logs and tracing.
type API struct {
	pulumi.ResourceState

	URL          pulumi.StringOutput `pulumi:"url"`
	ExecutionARN pulumi.StringOutput `pulumi:"executionArn"`
}

// accessLogFormat is one JSON object per request.
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
	`"requestTime":"$context.requestTime","method":"$context.httpMethod","path":"$context.path",` +
	`"resourcePath":"$context.resourcePath","status":"$context.status","responseLength":"$context.responseLength",` +
	`"integrationLatency":"$context.integrationLatency","errorType":"$context.error.responseType",` +
	`"xrayTraceId":"$context.xrayTraceId"}`

// NewAPI creates the REST API, its routes, deployment and stage, and lets
// the API, and only it, invoke the function.
func NewAPI(ctx *pulumi.Context, name string, args APIArgs, opts ...pulumi.ResourceOption) (*API, error) {
	a := &API{}
	if err := ctx.RegisterComponentResource("licences:infra:API", name, a, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(a)

	api, err := apigateway.NewRestApi(ctx, name, &apigateway.RestApiArgs{
		Name:        pulumi.String(args.Name),
		Description: pulumi.String("Licence API"),
		EndpointConfiguration: &apigateway.RestApiEndpointConfigurationArgs{
			Types: pulumi.String("REGIONAL"),
		},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create rest api: %w", err)
	}

	tree := resourceTree{ctx: ctx, name: name, api: api, opts: child, byPath: map[string]pulumi.StringOutput{}}
	var deployed []pulumi.Resource // what the deployment snapshots
	methodsByPath := map[string][]string{}
	var paths []string
	for _, r := range args.Routes {
		resourceID, err := tree.resource(r.Path)
		if err != nil {
			return nil, err
		}
		if _, seen := methodsByPath[r.Path]; !seen {
			paths = append(paths, r.Path)
		}
		methodsByPath[r.Path] = append(methodsByPath[r.Path], r.Method)
		logical := name + "-" + strings.ToLower(r.Method) + tree.logicalPath(r.Path)
		method, err := apigateway.NewMethod(ctx, logical, &apigateway.MethodArgs{
			RestApi:       api.ID(),
			ResourceId:    resourceID,
			HttpMethod:    pulumi.String(r.Method),
			Authorization: pulumi.String("NONE"),
		}, child)
		if err != nil {
			return nil, fmt.Errorf("create method %s: %w", r.Pattern(), err)
		}
		integration, err := apigateway.NewIntegration(ctx, logical, &apigateway.IntegrationArgs{
			RestApi:               api.ID(),
			ResourceId:            resourceID,
			HttpMethod:            method.HttpMethod,
			Type:                  pulumi.String("AWS_PROXY"),
			IntegrationHttpMethod: pulumi.String("POST"), // Lambda is always invoked with POST
			Uri:                   args.FunctionInvokeARN,
		}, child)
		if err != nil {
			return nil, fmt.Errorf("create integration %s: %w", r.Pattern(), err)
		}
		deployed = append(deployed, method, integration)
	}
	for _, p := range paths {
		res, err := tree.preflight(p, methodsByPath[p], args.CORSAllowOrigin)
		if err != nil {
			return nil, err
		}
		deployed = append(deployed, res...)
	}
	responses, err := gatewayResponses(ctx, name, api, args.CORSAllowOrigin, child)
	if err != nil {
		return nil, err
	}
	deployed = append(deployed, responses...)

	// A deployment is a snapshot: it must be made again whenever what it
	// snapshots changes, or the stage goes on serving the old routes.
	shape, err := json.Marshal(struct {
		Routes []route.Route
		Origin string
	}{args.Routes, args.CORSAllowOrigin})
	if err != nil {
		return nil, fmt.Errorf("hash routes: %w", err)
	}
	sum := sha256.Sum256(shape)
	deployment, err := apigateway.NewDeployment(ctx, name, &apigateway.DeploymentArgs{
		RestApi:     api.ID(),
		Description: pulumi.String("Licence API routes"),
		Triggers: pulumi.StringMap{
			"routes":   pulumi.String(hex.EncodeToString(sum[:])),
			"function": args.FunctionInvokeARN,
		},
	}, child, pulumi.DependsOn(deployed))
	if err != nil {
		return nil, fmt.Errorf("create deployment: %w", err)
	}

	stageDeps, err := a.accountSettings(ctx, name, args, child)
	if err != nil {
		return nil, err
	}
	accessLogs, err := cloudwatch.NewLogGroup(ctx, name+"-access", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(args.AccessLogGroupName),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create access log group: %w", err)
	}
	stage, err := apigateway.NewStage(ctx, name, &apigateway.StageArgs{
		RestApi:            api.ID(),
		Deployment:         deployment.ID(),
		StageName:          pulumi.String(args.Stage),
		XrayTracingEnabled: pulumi.Bool(true),
		AccessLogSettings: &apigateway.StageAccessLogSettingsArgs{
			DestinationArn: accessLogs.Arn,
			Format:         pulumi.String(accessLogFormat),
		},
	}, child, pulumi.DependsOn(append(stageDeps, args.Ready...)))
	if err != nil {
		return nil, fmt.Errorf("create stage: %w", err)
	}
	if _, err := apigateway.NewMethodSettings(ctx, name, &apigateway.MethodSettingsArgs{
		RestApi:    api.ID(),
		StageName:  stage.StageName,
		MethodPath: pulumi.String("*/*"),
		Settings: &apigateway.MethodSettingsSettingsArgs{
			ThrottlingRateLimit:  pulumi.Float64(args.ThrottleRateLimit),
			ThrottlingBurstLimit: pulumi.Int(args.ThrottleBurstLimit),
			MetricsEnabled:       pulumi.Bool(true),
		},
	}, child); err != nil {
		return nil, fmt.Errorf("create method settings: %w", err)
	}

	// One permission per route, each scoped to this API, this stage and that
	// route's method and path: nothing else may invoke the function.
	for _, r := range args.Routes {
		if _, err := lambda.NewPermission(ctx, name+"-invoke-"+strings.ToLower(r.Method)+tree.logicalPath(r.Path), &lambda.PermissionArgs{
			Action:    pulumi.String("lambda:InvokeFunction"),
			Function:  args.FunctionName,
			Principal: pulumi.String("apigateway.amazonaws.com"),
			SourceArn: pulumi.Sprintf("%s/%s/%s", api.ExecutionArn, args.Stage, r.ARNPath()),
		}, child); err != nil {
			return nil, fmt.Errorf("permit %s: %w", r.Pattern(), err)
		}
	}

	a.URL = stage.InvokeUrl
	a.ExecutionARN = api.ExecutionArn
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{"url": a.URL, "executionArn": a.ExecutionARN})
}

// AccountRole is API Gateway's CloudWatch role for the account and region.
// A stage with access logs cannot be created until the account has one
// (BadRequestException: CloudWatch Logs role ARN must be set in account
// settings to enable logging). It is one setting for the whole account and
// region, so every stage there points it at the same role, by name: one
// stage creates it (Create), the others find it (not Create). Role and
// setting are kept when a stage is destroyed, so destroying one stage never
// leaves another's logging pointed at a deleted role.
type AccountRole struct {
	Name   string
	Create bool
}

// accountSettings points API Gateway's account settings at the account
// role, creating the role if asked, and returns what the stage must wait for.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
func (a *API) accountSettings(ctx *pulumi.Context, name string, args APIArgs, opts pulumi.ResourceOrInvokeOption) ([]pulumi.Resource, error) {
	keep := pulumi.RetainOnDelete(true)
	var roleARN pulumi.StringOutput
	var deps []pulumi.Resource
	if args.AccountRole.Create {
		role, err := iam.NewRole(ctx, name+"-cloudwatch", &iam.RoleArgs{
			Name:             pulumi.String(args.AccountRole.Name),
			Description:      pulumi.String("Lets API Gateway write access logs to CloudWatch Logs, for every stage in this account and region"),
			AssumeRolePolicy: pulumi.String(assumeRolePolicy("apigateway.amazonaws.com")),
		}, opts, keep)
		if err != nil {
			return nil, fmt.Errorf("create api gateway logging role: %w", err)
		}
		attach, err := iam.NewRolePolicyAttachment(ctx, name+"-cloudwatch", &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.Sprintf("arn:%s:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs", args.Account.Partition),
		}, opts, keep)
		if err != nil {
			return nil, fmt.Errorf("attach api gateway logging policy: %w", err)
		}
		roleARN, deps = role.Arn, []pulumi.Resource{attach}
	} else {
		// Looked up, not built from the name: a missing role stops the
		// preview with IAM's NoSuchEntity instead of failing the stage.
		roleARN = iam.LookupRoleOutput(ctx, iam.LookupRoleOutputArgs{Name: pulumi.String(args.AccountRole.Name)}, opts).Arn()
	}
	account, err := apigateway.NewAccount(ctx, name, &apigateway.AccountArgs{
		CloudwatchRoleArn: roleARN,
		// Kept on destroy (never deleted, so never reset): other stages
		// log through it.
	}, opts, keep, pulumi.DependsOn(deps))
	if err != nil {
		return nil, fmt.Errorf("set api gateway account: %w", err)
	}
	return []pulumi.Resource{account}, nil
}

// resourceTree creates API Gateway resources for paths, each path segment
// once, parented as the path nests.
type resourceTree struct {
	ctx    *pulumi.Context
	name   string
	api    *apigateway.RestApi
	opts   pulumi.ResourceOption
	byPath map[string]pulumi.StringOutput
}

// resource returns the id of the resource for path, creating it and its
// ancestors as needed.
func (t *resourceTree) resource(path string) (pulumi.StringOutput, error) {
	if id, ok := t.byPath[path]; ok {
		return id, nil
	}
	i := strings.LastIndex(path, "/")
	parent := t.api.RootResourceId
	if i > 0 {
		var err error
		if parent, err = t.resource(path[:i]); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	res, err := apigateway.NewResource(t.ctx, t.name+t.logicalPath(path), &apigateway.ResourceArgs{
		RestApi:  t.api.ID(),
		ParentId: parent,
		PathPart: pulumi.String(path[i+1:]),
	}, t.opts)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("create resource %s: %w", path, err)
	}
	t.byPath[path] = res.ID().ToStringOutput()
	return t.byPath[path], nil
}

// logicalPath turns a path into a fragment of a Pulumi resource name:
// /licences/{id}/contact becomes -licences-id-contact.
func (t *resourceTree) logicalPath(path string) string {
	r := strings.NewReplacer("/", "-", "{", "", "}", "")
	return r.Replace(path)
}
