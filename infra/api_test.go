package infra

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/route"
)

// paths maps each route path to its methods.
func paths() map[string][]string {
	out := map[string][]string{}
	for _, r := range route.Of(route.Licences) {
		out[r.Path] = append(out[r.Path], r.Method)
	}
	return out
}

// Mutant: api.go `Type:                  pulumi.String("AWS_PROXY")` -> `Type:                  pulumi.String("AWS")`
func TestIntegrationsAreLambdaProxy(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		integrations := d.all(t, "aws:apigateway/integration:Integration", len(route.Of(route.Licences))+len(paths()))
		proxied := 0
		for _, in := range integrations {
			if in.Inputs["httpMethod"] == "OPTIONS" {
				if in.Inputs["type"] != "MOCK" {
					t.Errorf("%s: preflight integration %v, want MOCK", in.Name, in.Inputs["type"])
				}
				continue
			}
			proxied++
			if in.Inputs["type"] != "AWS_PROXY" || in.Inputs["integrationHttpMethod"] != "POST" ||
				!strings.Contains(fmt.Sprint(in.Inputs["uri"]), "function:licences-"+d.config.Stage+"-api/invocations") {
				t.Errorf("%s = %v, want AWS_PROXY by POST to the api function", in.Name, in.Inputs)
			}
		}
		if proxied != len(route.Of(route.Licences)) {
			t.Errorf("%d proxied integrations, want one per route (%d)", proxied, len(route.Of(route.Licences)))
		}
	})
}

// Only this API's stage, on each route's own method and path, may invoke
// the function.
// Mutant: api.go `SourceArn: pulumi.Sprintf("%s/%s/%s", api.ExecutionArn, args.Stage, r.ARNPath())` -> `SourceArn: pulumi.Sprintf("%s/*/*", api.ExecutionArn)`
func TestInvokePermissionsAreScopedToThisAPIStageAndRoute(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		exec := "arn:aws:execute-api:" + d.config.Region + ":" + testAccount + ":api0123456/" + d.config.Stage + "/"
		var got []string
		for _, p := range d.all(t, "aws:lambda/permission:Permission", len(route.Of(route.Licences))) {
			in := p.Inputs
			if in["principal"] != "apigateway.amazonaws.com" || in["action"] != "lambda:InvokeFunction" || in["function"] != "licences-"+d.config.Stage+"-api" {
				t.Errorf("%s = %v", p.Name, in)
			}
			got = append(got, fmt.Sprint(in["sourceArn"]))
		}
		var want []string
		for _, r := range route.Of(route.Licences) {
			want = append(want, exec+r.ARNPath())
		}
		if got, want := sorted(got), sorted(want); !slices.Equal(got, want) {
			t.Errorf("source ARNs:%s", diffLines(got, want))
		}
	})
}

// Mutant: api.go `XrayTracingEnabled: pulumi.Bool(true)` -> `XrayTracingEnabled: pulumi.Bool(false)`
func TestStageTracesThrottlesAndLogs(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		stage := d.one(t, "aws:apigateway/stage:Stage", "api").Inputs
		if stage["stageName"] != d.config.Stage || stage["xrayTracingEnabled"] != true {
			t.Errorf("stage %v tracing %v, want %s traced", stage["stageName"], stage["xrayTracingEnabled"], d.config.Stage)
		}
		logs, _ := stage["accessLogSettings"].(map[string]any)
		want := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/apigateway/licences-%s/access", d.config.Region, testAccount, d.config.Stage)
		if logs["destinationArn"] != want || !strings.Contains(fmt.Sprint(logs["format"]), `"requestId":"$context.requestId"`) {
			t.Errorf("access logs %v, want JSON to %s", logs, want)
		}
		s, _ := d.one(t, "aws:apigateway/methodSettings:MethodSettings", "api").Inputs["settings"].(map[string]any)
		if s["throttlingRateLimit"] != d.config.ThrottleRateLimit || num(s["throttlingBurstLimit"]) != d.config.ThrottleBurstLimit {
			t.Errorf("throttling %v, want rate %g burst %d", s, d.config.ThrottleRateLimit, d.config.ThrottleBurstLimit)
		}
		api := d.one(t, "aws:apigateway/restApi:RestApi", "api").Inputs
		if ec, _ := api["endpointConfiguration"].(map[string]any); ec["types"] != "REGIONAL" {
			t.Errorf("endpoint configuration %v, want REGIONAL", api["endpointConfiguration"])
		}
	})
}

func TestCORSPreflightOnEveryPath(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		byPath := paths()
		responses := d.all(t, "aws:apigateway/integrationResponse:IntegrationResponse", len(byPath))
		for _, r := range responses {
			params, _ := r.Inputs["responseParameters"].(map[string]any)
			if params["method.response.header.Access-Control-Allow-Origin"] != "'"+d.config.CORSAllowOrigin+"'" ||
				!strings.Contains(fmt.Sprint(params["method.response.header.Access-Control-Allow-Headers"]), "Idempotency-Key") {
				t.Errorf("%s: CORS headers %v", r.Name, params)
			}
		}
	})
}

// A deployment is a snapshot of every method: it must wait for them all and
// be redone when the routes or the function change.
// Mutant: api.go `}, child, pulumi.DependsOn(deployed))` -> `}, child, pulumi.DependsOn(deployed[:1]))`
func TestDeploymentFollowsRoutes(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		dep := d.one(t, "aws:apigateway/deployment:Deployment", "api")
		triggers, _ := dep.Inputs["triggers"].(map[string]any)
		if len(fmt.Sprint(triggers["routes"])) != 64 || triggers["function"] == nil {
			t.Errorf("deployment triggers %v, want a routes hash and the function", triggers)
		}
		var methods []string
		for _, u := range dep.Deps {
			if _, name, ok := strings.Cut(u, "aws:apigateway/method:Method::"); ok {
				methods = append(methods, name)
			}
		}
		want := d.names("aws:apigateway/method:Method")
		if n := len(route.Of(route.Licences)) + len(paths()); len(want) != n {
			t.Fatalf("%d methods, want one per route and a preflight per path (%d)", len(want), n)
		}
		if slices.Sort(methods); !slices.Equal(methods, want) {
			t.Errorf("deployment waits for methods %v, want every one %v", methods, want)
		}
	})
}
