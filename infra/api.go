package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/function/route"
)

// APIArgs configures an API.
type APIArgs struct {
	Name   string        // the REST API's name
	Stage  string        // the stage's name: the stack's
	Routes []route.Route // each is proxied to its capability's function
	// Capabilities says, for each capability of the routes, which function
	// serves it, who may call it, and the name of its client policy.
	Capabilities map[route.Capability]Capability

	ThrottleRateLimit  float64
	ThrottleBurstLimit int
	CORSAllowOrigin    string

	AccessLogGroupName string
	LogRetentionDays   int
	// KMSKeyARN encrypts the access logs; nil means CloudWatch's own keys.
	KMSKeyARN pulumi.StringPtrInput
	// AccountRole is API Gateway's account-wide CloudWatch role, which
	// access logging needs.
	AccountRole AccountRole
	Account     Account
	// Ready lists what must exist before the stage goes live, such as the
	// schema the function needs.
	Ready []pulumi.Resource
}

// Capability is one capability's part of the API: the function that serves
// its routes, the callers its resource policy admits to them, and the
// managed policy that grants them to a caller.
type Capability struct {
	Function         *Function
	Callers          Callers
	ClientPolicyName string
}

// API is a regional REST API whose routes are proxied to the function of
// their capability (AWS_PROXY), each signed with Signature Version 4
// (AWS_IAM) and admitted by a resource policy, with CORS, throttling, JSON
// access logs and tracing.
type API struct {
	pulumi.ResourceState

	URL          pulumi.StringOutput `pulumi:"url"`
	ExecutionARN pulumi.StringOutput `pulumi:"executionArn"`
	StageARN     pulumi.StringOutput `pulumi:"stageArn"`
	// ClientPolicyARNs are the managed policies that grant each
	// capability's routes.
	ClientPolicyARNs map[route.Capability]pulumi.StringOutput
}

// accessLogFormat is one JSON object per request.
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
	`"caller":"$context.identity.userArn","requestTime":"$context.requestTime","method":"$context.httpMethod","path":"$context.path",` +
	`"resourcePath":"$context.resourcePath","status":"$context.status","responseLength":"$context.responseLength",` +
	`"integrationLatency":"$context.integrationLatency","errorType":"$context.error.responseType",` +
	`"wafStatus":"$context.waf.status","xrayTraceId":"$context.xrayTraceId"}`

// NewAPI creates the REST API, its routes, resource policy, deployment and
// stage, the client policies, and lets the API, and only it, invoke each
// capability's function on that capability's routes.
func NewAPI(ctx *pulumi.Context, name string, args APIArgs, opts ...pulumi.ResourceOption) (*API, error) {
	a := &API{ClientPolicyARNs: map[route.Capability]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource("licences:infra:API", name, a, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(a)
	for _, r := range args.Routes {
		if _, ok := args.Capabilities[r.Capability]; !ok {
			return nil, fmt.Errorf("route %s: no function serves capability %q", r.Pattern(), r.Capability)
		}
	}

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
	tree, deployed, err := a.routes(ctx, name, api, args, child)
	if err != nil {
		return nil, err
	}
	responses, responseShape, err := gatewayResponses(ctx, name, api, args.CORSAllowOrigin, child)
	if err != nil {
		return nil, err
	}
	deployed = append(deployed, responses...)
	policyJSON := resourcePolicyJSON(api.ExecutionArn, args)
	resourcePolicy, err := apigateway.NewRestApiPolicy(ctx, name, &apigateway.RestApiPolicyArgs{
		RestApiId: api.ID(),
		Policy:    policyJSON,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create resource policy: %w", err)
	}
	deployed = append(deployed, resourcePolicy)
	deployment, err := deployRoutes(ctx, name, api, args, deployed, responseShape, policyJSON, child)
	if err != nil {
		return nil, err
	}
	stage, err := a.stage(ctx, name, api, deployment, args, child)
	if err != nil {
		return nil, err
	}
	if err := permitRoutes(ctx, name, api, tree, args, child); err != nil {
		return nil, err
	}
	if err := a.clientPolicies(ctx, name, api, args, child); err != nil {
		return nil, err
	}

	a.URL = stage.InvokeUrl
	a.ExecutionARN = api.ExecutionArn
	a.StageARN = stage.Arn
	outs := pulumi.Map{"url": a.URL, "executionArn": a.ExecutionARN, "stageArn": a.StageARN}
	for c, arn := range a.ClientPolicyARNs {
		outs[string(c)+"ClientPolicyArn"] = arn
	}
	return a, ctx.RegisterResourceOutputs(a, outs)
}

// routes declares each route's resource, method and proxy integration to
// its capability's function, and each path's CORS preflight, and returns
// the resource tree and what the deployment snapshots.
func (a *API) routes(ctx *pulumi.Context, name string, api *apigateway.RestApi, args APIArgs, child pulumi.ResourceOption) (*resourceTree, []pulumi.Resource, error) {
	tree := resourceTree{ctx: ctx, name: name, api: api, opts: child, byPath: map[string]pulumi.StringOutput{}}
	var deployed []pulumi.Resource // what the deployment snapshots
	methodsByPath := map[string][]string{}
	var paths []string
	for _, r := range args.Routes {
		resourceID, err := tree.resource(r.Path)
		if err != nil {
			return nil, nil, err
		}
		if _, seen := methodsByPath[r.Path]; !seen {
			paths = append(paths, r.Path)
		}
		methodsByPath[r.Path] = append(methodsByPath[r.Path], r.Method)
		logical := name + "-" + strings.ToLower(r.Method) + tree.logicalPath(r.Path)
		method, err := apigateway.NewMethod(ctx, logical, &apigateway.MethodArgs{
			RestApi:    api.ID(),
			ResourceId: resourceID,
			HttpMethod: pulumi.String(r.Method),
			// Signature Version 4: API Gateway authenticates the caller
			// and hands the function its identity.
			Authorization: pulumi.String("AWS_IAM"),
		}, child)
		if err != nil {
			return nil, nil, fmt.Errorf("create method %s: %w", r.Pattern(), err)
		}
		integration, err := apigateway.NewIntegration(ctx, logical, &apigateway.IntegrationArgs{
			RestApi:               api.ID(),
			ResourceId:            resourceID,
			HttpMethod:            method.HttpMethod,
			Type:                  pulumi.String("AWS_PROXY"),
			IntegrationHttpMethod: pulumi.String("POST"), // Lambda is always invoked with POST
			Uri:                   args.Capabilities[r.Capability].Function.InvokeARN,
		}, child)
		if err != nil {
			return nil, nil, fmt.Errorf("create integration %s: %w", r.Pattern(), err)
		}
		deployed = append(deployed, method, integration)
	}
	for _, p := range paths {
		res, err := tree.preflight(p, methodsByPath[p], args.CORSAllowOrigin)
		if err != nil {
			return nil, nil, err
		}
		deployed = append(deployed, res...)
	}
	return &tree, deployed, nil
}

// deployRoutes declares the deployment of what deployed holds.
func deployRoutes(ctx *pulumi.Context, name string, api *apigateway.RestApi, args APIArgs, deployed []pulumi.Resource, responseShape any, policyJSON pulumi.StringOutput, child pulumi.ResourceOption) (*apigateway.Deployment, error) {
	// A deployment is a snapshot: it must be made again whenever what it
	// snapshots changes, or the stage goes on serving the old routes,
	// policy or responses (API Gateway applies a resource policy to a
	// stage only when it is deployed again).
	shape, err := json.Marshal(struct {
		Routes    []route.Route
		Origin    string
		Responses any
	}{args.Routes, args.CORSAllowOrigin, responseShape})
	if err != nil {
		return nil, fmt.Errorf("hash routes: %w", err)
	}
	triggers := pulumi.StringMap{
		"routes": pulumi.String(sha(shape)),
		"policy": policyJSON.ApplyT(func(p string) string { return sha([]byte(p)) }).(pulumi.StringOutput),
	}
	for c, capability := range args.Capabilities {
		triggers["function-"+string(c)] = capability.Function.InvokeARN
	}
	deployment, err := apigateway.NewDeployment(ctx, name, &apigateway.DeploymentArgs{
		RestApi:     api.ID(),
		Description: pulumi.String("Licence API routes"),
		Triggers:    triggers,
	}, child, pulumi.DependsOn(deployed))
	if err != nil {
		return nil, fmt.Errorf("create deployment: %w", err)
	}

	return deployment, nil
}

// stage declares the stage, once the account can log it and what the API
// waits for is ready, with its access logs, tracing and throttling.
func (a *API) stage(ctx *pulumi.Context, name string, api *apigateway.RestApi, deployment *apigateway.Deployment, args APIArgs, child pulumi.ResourceOrInvokeOption) (*apigateway.Stage, error) {
	stageDeps, err := a.accountSettings(ctx, name, args, child)
	if err != nil {
		return nil, err
	}
	accessLogs, err := logGroup{args.AccessLogGroupName, args.LogRetentionDays, args.KMSKeyARN}.create(ctx, name+"-access", child)
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

	return stage, nil
}

// permitRoutes lets the API invoke each route's function: one permission
// per route, each scoped to this API, this stage and that route's method
// and path, on the function of its capability. Nothing else may invoke a
// function.
func permitRoutes(ctx *pulumi.Context, name string, api *apigateway.RestApi, tree *resourceTree, args APIArgs, child pulumi.ResourceOption) error {
	for _, r := range args.Routes {
		if _, err := lambda.NewPermission(ctx, name+"-invoke-"+strings.ToLower(r.Method)+tree.logicalPath(r.Path), &lambda.PermissionArgs{
			Action:    pulumi.String("lambda:InvokeFunction"),
			Function:  args.Capabilities[r.Capability].Function.Name,
			Principal: pulumi.String("apigateway.amazonaws.com"),
			SourceArn: routeARN(api.ExecutionArn, args.Stage, r),
		}, child); err != nil {
			return fmt.Errorf("permit %s: %w", r.Pattern(), err)
		}
	}

	return nil
}

// clientPolicies declares a managed policy per capability, granting
// exactly its routes of this stage: what a caller's role is given.
func (a *API) clientPolicies(ctx *pulumi.Context, name string, api *apigateway.RestApi, args APIArgs, child pulumi.ResourceOption) error {
	for _, c := range route.Capabilities() {
		capability, ok := args.Capabilities[c]
		if !ok {
			continue
		}
		p, err := iam.NewPolicy(ctx, name+"-client-"+string(c), &iam.PolicyArgs{
			Name:        pulumi.String(capability.ClientPolicyName),
			Description: pulumi.Sprintf("Calls the %s routes of the %s stage of the licence API", c, args.Stage),
			Policy:      identityPolicyJSON([]Grant{{Sid: "Invoke", Actions: []string{executeAPIInvoke}, Resources: routeARNs(api.ExecutionArn, args.Stage, args.Routes, c)}}),
		}, child)
		if err != nil {
			return fmt.Errorf("create %s client policy: %w", c, err)
		}
		a.ClientPolicyARNs[c] = p.Arn
	}

	return nil
}

// executeAPIInvoke calls a route of an API.
const executeAPIInvoke = "execute-api:Invoke"

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// routeARN is the execute-api ARN of a route of the stage, path parameters
// matched by *.
func routeARN(executionARN pulumi.StringOutput, stage string, r route.Route) pulumi.StringOutput {
	return pulumi.Sprintf("%s/%s/%s", executionARN, stage, r.ARNPath())
}

// routeARNs are the execute-api ARNs of a capability's routes of the stage.
func routeARNs(executionARN pulumi.StringOutput, stage string, routes []route.Route, c route.Capability) pulumi.StringArray {
	var out pulumi.StringArray
	for _, r := range routes {
		if r.Capability == c {
			out = append(out, routeARN(executionARN, stage, r))
		}
	}
	return out
}

// resourcePolicyJSON is the API's resource policy: for each capability, its
// callers may invoke its routes of this stage and everyone else is denied
// them, explicitly; anyone may send a CORS preflight (OPTIONS), which API
// Gateway answers itself, because the resource policy is evaluated for
// those unsigned requests too. With no callers named, the deploying
// account's principals are admitted, as far as their own IAM policies
// allow.
func resourcePolicyJSON(executionARN pulumi.StringOutput, args APIArgs) pulumi.StringOutput {
	return pulumi.All(executionARN, args.Account.Partition, args.Account.ID).ApplyT(func(v []any) (string, error) {
		exec, partition, account := v[0].(string), v[1].(string), v[2].(string)
		doc := PolicyDocument{Version: "2012-10-17"}
		for _, c := range route.Capabilities() {
			capability, ok := args.Capabilities[c]
			if !ok {
				continue
			}
			var resources []string
			for _, r := range args.Routes {
				if r.Capability == c {
					resources = append(resources, exec+"/"+args.Stage+"/"+r.ARNPath())
				}
			}
			callers := capability.Callers
			if callers.Empty() {
				callers = Callers{Accounts: []string{account}}
			}
			var principals []string
			principals = append(principals, callers.ARNs...)
			for _, id := range callers.Accounts {
				principals = append(principals, fmt.Sprintf("arn:%s:iam::%s:root", partition, id))
			}
			others := map[string][]string{}
			if len(callers.ARNs) > 0 {
				others["aws:PrincipalArn"] = callers.ARNs
			}
			if len(callers.Accounts) > 0 {
				others["aws:PrincipalAccount"] = callers.Accounts
			}
			sid := sidPrefix(string(c))
			doc.Statement = append(doc.Statement,
				Statement{Sid: sid + "Callers", Effect: "Allow", Principal: &Principal{AWS: principals}, Action: []string{executeAPIInvoke}, Resource: resources},
				Statement{Sid: sid + "DenyOthers", Effect: "Deny", Principal: &Principal{AWS: []string{"*"}}, Action: []string{executeAPIInvoke}, Resource: resources,
					Condition: Condition{"StringNotEquals": others}},
			)
		}
		doc.Statement = append(doc.Statement, Statement{Sid: "Preflight", Effect: "Allow", Principal: &Principal{AWS: []string{"*"}},
			Action: []string{executeAPIInvoke}, Resource: []string{exec + "/" + args.Stage + "/OPTIONS/*"}})
		return marshalPolicy(doc)
	}).(pulumi.StringOutput)
}

// AccountRole is API Gateway's CloudWatch role for the account and region.
// A stage with access logs cannot be created until the account has one
// (BadRequestException: CloudWatch Logs role ARN must be set in account
// settings to enable logging). It is one setting for the whole account and
// region, so every stage there points it at the same role, by name. Role
// and setting are kept when a stage is destroyed, so destroying one stage
// never leaves another's logging pointed at a deleted role.
//
// Whichever stage comes first creates the role; a stage that finds it in
// the account (Exists) adopts it: the role is declared with the import
// option, which the engine honours only when the role is not already in
// this stack's state (an import ID matching the state's is an ordinary
// resource, pulumi/pkg resource/deploy/step_generator.go), so a stage that
// owns the role keeps owning it, and a stage made again after a destroy
// takes back the role its earlier self left. IAM answers a second CreateRole
// of the name with EntityAlreadyExists
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html),
// which is why a found role is never created.
type AccountRole struct {
	Name   string
	Exists bool
}

// accountSettings points API Gateway's account settings at the account
// role, creating or adopting the role, and returns what the stage must wait
// for.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
func (a *API) accountSettings(ctx *pulumi.Context, name string, args APIArgs, opts pulumi.ResourceOrInvokeOption) ([]pulumi.Resource, error) {
	keep := pulumi.RetainOnDelete(true)
	roleOpts := []pulumi.ResourceOption{opts, keep}
	if args.AccountRole.Exists {
		roleOpts = append(roleOpts, pulumi.Import(pulumi.ID(args.AccountRole.Name)))
	}
	role, err := iam.NewRole(ctx, name+"-cloudwatch", &iam.RoleArgs{
		Name:             pulumi.String(args.AccountRole.Name),
		Description:      pulumi.String("Lets API Gateway write access logs to CloudWatch Logs, for every stage in this account and region"),
		AssumeRolePolicy: pulumi.String(assumeRolePolicy("apigateway.amazonaws.com")),
	}, roleOpts...)
	if err != nil {
		return nil, fmt.Errorf("api gateway logging role: %w", err)
	}
	// Attaching a managed policy the role already has changes nothing
	// (AttachRolePolicy is idempotent), so an adopting stage attaches it too.
	attach, err := iam.NewRolePolicyAttachment(ctx, name+"-cloudwatch", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.Sprintf("arn:%s:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs", args.Account.Partition),
	}, opts, keep)
	if err != nil {
		return nil, fmt.Errorf("attach api gateway logging policy: %w", err)
	}
	account, err := apigateway.NewAccount(ctx, name, &apigateway.AccountArgs{
		CloudwatchRoleArn: role.Arn,
		// Kept on destroy (never deleted, so never reset): other stages
		// log through it.
	}, opts, keep, pulumi.DependsOn([]pulumi.Resource{attach}))
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
