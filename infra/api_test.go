package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/httpapi"
	"github.com/privateledger/licences/function/route"
)

// paths maps each route path to its methods.
func paths() map[string][]string {
	out := map[string][]string{}
	for _, r := range route.Routes() {
		out[r.Path] = append(out[r.Path], r.Method)
	}
	return out
}

// functionOf is the function that serves a capability's routes.
var functionOf = map[route.Capability]string{route.Licences: apiPart, route.Erasure: erasePart}

// routeKey is a route as the tests find it among the resources: its method
// and the logical path fragment its resources are named with.
func routeKey(r route.Route) string {
	return strings.ToLower(r.Method) + strings.NewReplacer("/", "-", "{", "", "}", "").Replace(r.Path)
}

// Mutant: api.go `Type:                  pulumi.String("AWS_PROXY")` -> `Type:                  pulumi.String("AWS")`
// Mutant: api.go `Uri:                   args.Capabilities[r.Capability].Function.InvokeARN,` -> `Uri:                   args.Capabilities[route.Licences].Function.InvokeARN,`
func TestIntegrationsAreLambdaProxyToTheirCapabilitysFunction(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		d.all(t, "aws:apigateway/integration:Integration", len(route.Routes())+len(paths()))
		for _, r := range route.Routes() {
			in := d.one(t, "aws:apigateway/integration:Integration", "api-"+routeKey(r)).Inputs
			fn := "function:licences-" + d.config.Stage + "-" + functionOf[r.Capability] + "/invocations"
			if in["type"] != "AWS_PROXY" || in["integrationHttpMethod"] != "POST" || !strings.HasSuffix(fmt.Sprint(in["uri"]), fn) {
				t.Errorf("%s: %v, want AWS_PROXY by POST to ...%s", r.Pattern(), in, fn)
			}
		}
		for p := range paths() {
			in := d.one(t, "aws:apigateway/integration:Integration", "api-options"+strings.NewReplacer("/", "-", "{", "", "}", "").Replace(p)).Inputs
			if in["type"] != "MOCK" {
				t.Errorf("%s: preflight integration %v, want MOCK", p, in["type"])
			}
		}
	})
}

// Every route is signed (AWS_IAM); only the preflight is open.
//
// Mutant: api.go `Authorization: pulumi.String("AWS_IAM"),` -> `Authorization: pulumi.String("NONE"),`
func TestEveryRouteIsSignedAndOnlyThePreflightIsOpen(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		signed := 0
		for _, m := range d.all(t, "aws:apigateway/method:Method", len(route.Routes())+len(paths())) {
			switch in := m.Inputs; {
			case in["httpMethod"] == "OPTIONS":
				if in["authorization"] != "NONE" {
					t.Errorf("%s: preflight authorization %v, want NONE (browsers send it unsigned)", m.Name, in["authorization"])
				}
			case in["authorization"] != "AWS_IAM":
				t.Errorf("%s %s: authorization %v, want AWS_IAM", m.Name, in["httpMethod"], in["authorization"])
			default:
				signed++
			}
		}
		if signed != len(route.Routes()) {
			t.Errorf("%d signed methods, want every route (%d)", signed, len(route.Routes()))
		}
	})
}

// Only this API's stage, on each route's own method and path, may invoke
// the function of the route's capability.
// Mutant: api.go `return pulumi.Sprintf("%s/%s/%s", executionARN, stage, r.ARNPath())` -> `return pulumi.Sprintf("%s/*/*", executionARN)`
// Mutant: api.go `Function:  args.Capabilities[r.Capability].Function.Name,` -> `Function:  args.Capabilities[route.Licences].Function.Name,`
func TestInvokePermissionsAreScopedToThisAPIStageAndRoute(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		exec := "arn:aws:execute-api:" + d.config.Region + ":" + testAccount + ":api0123456/" + d.config.Stage + "/"
		d.all(t, "aws:lambda/permission:Permission", len(route.Routes()))
		for _, r := range route.Routes() {
			in := d.one(t, "aws:lambda/permission:Permission", "api-invoke-"+routeKey(r)).Inputs
			fn := "licences-" + d.config.Stage + "-" + functionOf[r.Capability]
			if in["principal"] != "apigateway.amazonaws.com" || in["action"] != "lambda:InvokeFunction" || in["function"] != fn || in["sourceArn"] != exec+r.ARNPath() {
				t.Errorf("%s: %v, want %s invoked from %s", r.Pattern(), in, fn, exec+r.ARNPath())
			}
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
		if logs["destinationArn"] != want || !strings.Contains(fmt.Sprint(logs["format"]), `"requestId":"$context.requestId"`) ||
			!strings.Contains(fmt.Sprint(logs["format"]), `"caller":"$context.identity.userArn"`) {
			t.Errorf("access logs %v, want JSON with the caller to %s", logs, want)
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
				!strings.Contains(fmt.Sprint(params["method.response.header.Access-Control-Allow-Headers"]), "Idempotency-Key") ||
				!strings.Contains(fmt.Sprint(params["method.response.header.Access-Control-Allow-Headers"]), "X-Amz-Security-Token") {
				t.Errorf("%s: CORS headers %v", r.Name, params)
			}
		}
	})
}

// apiPolicy is the API's resource policy.
func apiPolicy(t *testing.T, d *deployment) PolicyDocument {
	t.Helper()
	return policy(t, d.one(t, "aws:apigateway/restApiPolicy:RestApiPolicy", "api"), "policy")
}

// routeARNsOf are the execute-api ARNs of a capability's routes.
func routeARNsOf(d *deployment, c route.Capability) []string {
	var out []string
	for _, r := range route.Of(c) {
		out = append(out, "arn:aws:execute-api:"+d.config.Region+":"+testAccount+":api0123456/"+d.config.Stage+"/"+r.ARNPath())
	}
	return sorted(out)
}

// The resource policy admits exactly the configured callers of each
// capability to its routes, denies everyone else those routes, and lets
// anyone send the unsigned preflight: the one "*" principal that allows.
//
// Mutant: api.go `Statement{Sid: sid + "DenyOthers", Effect: "Deny",` -> `Statement{Sid: sid + "DenyOthers", Effect: "Allow",`
// Mutant: api.go `others["aws:PrincipalArn"] = callers.ARNs` -> `others["aws:PrincipalArn"] = append(callers.ARNs, "*")`
// Mutant: api.go `Resource: []string{exec + "/" + args.Stage + "/OPTIONS/*"}})` -> `Resource: []string{exec + "/" + args.Stage + "/*/*"}})`
// Mutant: api.go `callers = Callers{Accounts: []string{account}}` -> `callers = Callers{Accounts: []string{account, "*"}}`
func TestResourcePolicyAdmitsExactlyTheCallers(t *testing.T) {
	clerk, erasers := "arn:aws:iam::111122223333:role/licence-clerk", "arn:aws:iam::123456789012:role/privacy-officer"
	for _, c := range []struct {
		name      string
		overrides map[string]string
		// want: capability → allowed principals, and the deny's condition
		want map[route.Capability][2]string
	}{
		{"the stage files", nil, map[route.Capability][2]string{
			route.Licences: {"arn:aws:iam::123456789012:root", `{"StringNotEquals":{"aws:PrincipalAccount":["123456789012"]}}`},
			route.Erasure:  {"arn:aws:iam::123456789012:root", `{"StringNotEquals":{"aws:PrincipalAccount":["123456789012"]}}`},
		}},
		{"named callers", map[string]string{"licences:apiCallers": `["` + clerk + `","444455556666"]`, "licences:apiErasers": `["` + erasers + `"]`},
			map[route.Capability][2]string{
				route.Licences: {clerk + " arn:aws:iam::444455556666:root", `{"StringNotEquals":{"aws:PrincipalAccount":["444455556666"],"aws:PrincipalArn":["` + clerk + `"]}}`},
				route.Erasure:  {erasers, `{"StringNotEquals":{"aws:PrincipalArn":["` + erasers + `"]}}`},
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, stage := range shippedStages {
				d := mustDeploy(t, stage, c.overrides)
				doc := apiPolicy(t, d)
				seen := map[string]bool{}
				for _, s := range doc.Statement {
					seen[s.Sid] = true
					if !slices.Equal(s.Action, []string{"execute-api:Invoke"}) || s.Principal == nil {
						t.Errorf("%s %s: %+v, want execute-api:Invoke with a principal", stage, s.Sid, s)
					}
				}
				for cap, want := range c.want {
					sid := sidPrefix(string(cap))
					for _, s := range doc.Statement {
						switch s.Sid {
						case sid + "Callers":
							if s.Effect != "Allow" || strings.Join(sorted(s.Principal.AWS), " ") != want[0] || !slices.Equal(sorted(s.Resource), routeARNsOf(d, cap)) || s.Condition != nil {
								t.Errorf("%s %s: %+v, want %s allowed on %v", stage, s.Sid, s, want[0], routeARNsOf(d, cap))
							}
						case sid + "DenyOthers":
							cond, _ := json.Marshal(s.Condition)
							if s.Effect != "Deny" || !slices.Equal(s.Principal.AWS, []string{"*"}) || string(cond) != want[1] || !slices.Equal(sorted(s.Resource), routeARNsOf(d, cap)) {
								t.Errorf("%s %s: %+v (condition %s), want everyone else denied unless %s", stage, s.Sid, s, cond, want[1])
							}
						}
					}
					if !seen[sid+"Callers"] || !seen[sid+"DenyOthers"] {
						t.Errorf("%s: no allow and deny for %s in %v", stage, cap, seen)
					}
				}
				for _, s := range doc.Statement {
					if s.Sid == "Preflight" {
						want := "arn:aws:execute-api:" + d.config.Region + ":" + testAccount + ":api0123456/" + d.config.Stage + "/OPTIONS/*"
						if s.Effect != "Allow" || !slices.Equal(s.Principal.AWS, []string{"*"}) || !slices.Equal(s.Resource, []string{want}) {
							t.Errorf("%s preflight: %+v, want anyone on %s only", stage, s, want)
						}
					}
				}
				if len(doc.Statement) != 2*len(c.want)+1 || !seen["Preflight"] {
					t.Errorf("%s: statements %v, want an allow and a deny per capability and the preflight", stage, seen)
				}
			}
		})
	}
}

// Each client policy grants exactly execute-api:Invoke on its capability's
// routes of this stage: the licence client cannot erase.
//
// Mutant: api.go `Policy:      identityPolicyJSON([]Grant{{Sid: "Invoke", Actions: []string{executeAPIInvoke}, Resources: routeARNs(api.ExecutionArn, args.Stage, args.Routes, c)}}),` -> `Policy:      identityPolicyJSON([]Grant{{Sid: "Invoke", Actions: []string{executeAPIInvoke}, Resources: pulumi.StringArray{pulumi.Sprintf("%s/*", api.ExecutionArn)}}}),`
func TestClientPoliciesGrantOnlyTheirRoutes(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		d.all(t, "aws:iam/policy:Policy", len(route.Capabilities()))
		for c, name := range map[route.Capability]string{route.Licences: "api", route.Erasure: "eraser"} {
			p := d.one(t, "aws:iam/policy:Policy", "api-client-"+string(c))
			if want := "licences-" + d.config.Stage + "-" + name + "-client-" + d.config.Region; p.Inputs["name"] != want {
				t.Errorf("%s client policy named %v, want %s", c, p.Inputs["name"], want)
			}
			var want []string
			for _, arn := range routeARNsOf(d, c) {
				want = append(want, "execute-api:Invoke on "+arn)
			}
			if got := permissions(t, policy(t, p, "policy")); !slices.Equal(got, sorted(want)) {
				t.Errorf("the %s client policy grants:%s", c, diffLines(got, sorted(want)))
			}
		}
		if d.outputs["apiClientPolicyArn"] != "arn:aws:iam::123456789012:policy/licences-"+d.config.Stage+"-api-client-"+d.config.Region ||
			d.outputs["apiEraserPolicyArn"] != "arn:aws:iam::123456789012:policy/licences-"+d.config.Stage+"-eraser-client-"+d.config.Region {
			t.Errorf("outputs %v %v, want the client policies' ARNs", d.outputs["apiClientPolicyArn"], d.outputs["apiEraserPolicyArn"])
		}
	})
}

// API Gateway's own refusals are 403 problem documents, each titled.
//
// Mutant: cors.go `{"INVALID_SIGNATURE", "403", "Invalid signature"},` -> `{"INVALID_SIGNATURE", "", ""},`
// Mutant: cors.go `{"MISSING_AUTHENTICATION_TOKEN", "403", "Missing authentication"},` -> `{"MISSING_AUTHENTICATION_TOKEN", "404", "Missing authentication"},`
func TestGatewayRefusalsAre403ProblemDocuments(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		titles := map[string]bool{}
		for _, kind := range []string{"MISSING_AUTHENTICATION_TOKEN", "INVALID_SIGNATURE", "EXPIRED_TOKEN", "ACCESS_DENIED", "WAF_FILTERED"} {
			r := d.one(t, "aws:apigateway/response:Response", "api-"+strings.ToLower(strings.ReplaceAll(kind, "_", "-"))).Inputs
			params, _ := r["responseParameters"].(map[string]any)
			templates, _ := r["responseTemplates"].(map[string]any)
			body := strings.ReplaceAll(fmt.Sprint(templates["application/json"]), "$context.error.messageString", `"the message"`)
			var doc map[string]any
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("%s: the template is not a problem document: %v: %s", kind, err, body)
			}
			title, _ := doc["title"].(string)
			if r["responseType"] != kind || r["statusCode"] != "403" || doc["status"] != float64(403) || title == "" || strings.Contains(title, "$") ||
				params["gatewayresponse.header.Content-Type"] != "'application/problem+json'" ||
				params["gatewayresponse.header.Access-Control-Allow-Origin"] != "'"+d.config.CORSAllowOrigin+"'" {
				t.Errorf("%s: %v, want a 403 problem document with a title and CORS", kind, r)
			}
			if titles[title] {
				t.Errorf("%s: the title %q is another refusal's", kind, title)
			}
			titles[title] = true
		}
	})
}

// A deployment is a snapshot of every method, the responses and the
// resource policy: it must wait for them all and be redone when the
// routes, the functions, the responses or the policy change, or the live
// stage keeps the old ones.
//
// Mutant: api.go `}, child, pulumi.DependsOn(deployed))` -> `}, child, pulumi.DependsOn(deployed[:1]))`
// Mutant: api.go `}{args.Routes, args.CORSAllowOrigin, responseShape})` -> `}{args.Routes, args.CORSAllowOrigin, responseShape != nil})`
// Mutant: api.go `"policy": policyJSON.ApplyT(func(p string) string { return sha([]byte(p)) }).(pulumi.StringOutput),` -> `"policy": pulumi.String("").ToStringOutput(),`
func TestDeploymentFollowsRoutesResponsesAndPolicy(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		dep := d.one(t, "aws:apigateway/deployment:Deployment", "api")
		triggers, _ := dep.Inputs["triggers"].(map[string]any)
		shape, _ := json.Marshal(struct {
			Routes    []route.Route
			Origin    string
			Responses any
		}{route.Routes(), d.config.CORSAllowOrigin, struct {
			Answers []gatewayResponse
			Origin  string
		}{gatewayAnswers, d.config.CORSAllowOrigin}})
		policyText, _ := d.one(t, "aws:apigateway/restApiPolicy:RestApiPolicy", "api").Inputs["policy"].(string)
		if triggers["routes"] != hexSHA(shape) || triggers["policy"] != hexSHA([]byte(policyText)) ||
			triggers["function-licences"] == nil || triggers["function-erasure"] == nil {
			t.Errorf("deployment triggers %v, want the routes and responses, the policy and each function", triggers)
		}
		var waits []string
		for _, u := range dep.Deps {
			for _, typ := range []string{"aws:apigateway/method:Method::", "aws:apigateway/response:Response::", "aws:apigateway/restApiPolicy:RestApiPolicy::"} {
				if _, name, ok := strings.Cut(u, typ); ok {
					waits = append(waits, typ+name)
				}
			}
		}
		var want []string
		for _, typ := range []string{"aws:apigateway/method:Method", "aws:apigateway/response:Response", "aws:apigateway/restApiPolicy:RestApiPolicy"} {
			for _, n := range d.names(typ) {
				want = append(want, typ+"::"+n)
			}
		}
		if n := len(route.Routes()) + len(paths()) + len(gatewayAnswers) + 1; len(want) != n {
			t.Fatalf("%d methods, responses and policies, want %d", len(want), n)
		}
		if !slices.Equal(sorted(waits), sorted(want)) {
			t.Errorf("the deployment waits for:%s", diffLines(sorted(waits), sorted(want)))
		}
	})
	// Changing who may call changes the deployment.
	a := mustDeploy(t, "dev", nil).one(t, "aws:apigateway/deployment:Deployment", "api").Inputs["triggers"].(map[string]any)
	b := mustDeploy(t, "dev", map[string]string{"licences:apiCallers": `["444455556666"]`}).one(t, "aws:apigateway/deployment:Deployment", "api").Inputs["triggers"].(map[string]any)
	if a["policy"] == b["policy"] {
		t.Error("changing apiCallers leaves the deployment as it was: the live stage would keep the old policy")
	}
}

func hexSHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// WAF guards the stages that ask (prod), and only those.
//
// Mutant: waf.go `ResourceArn: args.StageARN,` -> `ResourceArn: pulumi.String("arn:aws:apigateway:eu-west-2::/restapis/other/stages/prod"),`
// Mutant: waf.go `Limit:               pulumi.Int(args.RateLimit),` -> `Limit:               pulumi.Int(2000000000),`
// Mutant: stack.go `	if cfg.WAF {` -> `	if false {`
// Mutant: waf.go `Name:        pulumi.String(commonBodySizeRule),` -> `Name:        pulumi.String("SizeRestrictions_QUERYSTRING"),`
// Mutant: waf.go `Size:               pulumi.Int(httpapi.MaxBodyBytes),` -> `Size:               pulumi.Int(8192),`
// Mutant: waf.go `Body: &wafv2.WebAclRuleStatementSizeConstraintStatementFieldToMatchBodyArgs{OversizeHandling: pulumi.String("MATCH")},` -> `Body: &wafv2.WebAclRuleStatementSizeConstraintStatementFieldToMatchBodyArgs{OversizeHandling: pulumi.String("CONTINUE")},`
func TestWAFGuardsTheStagesThatAskForIt(t *testing.T) {
	seen := map[bool][]string{}
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		acls := d.ofType("aws:wafv2/webAcl:WebAcl")
		seen[d.config.WAF] = append(seen[d.config.WAF], d.config.Stage)
		if !d.config.WAF {
			if len(acls) != 0 || len(d.ofType("aws:wafv2/webAclAssociation:WebAclAssociation")) != 0 {
				t.Errorf("a web ACL on a stage without waf: %v", d.names("aws:wafv2/webAcl:WebAcl"))
			}
			return
		}
		acl := d.one(t, "aws:wafv2/webAcl:WebAcl", "waf").Inputs
		rules, _ := acl["rules"].([]any)
		var groups []string
		rate := 0
		for _, r := range rules {
			m := r.(map[string]any)
			st, _ := m["statement"].(map[string]any)
			if g, ok := st["managedRuleGroupStatement"].(map[string]any); ok && g["vendorName"] == "AWS" {
				groups = append(groups, fmt.Sprint(g["name"]))
			}
			if rb, ok := st["rateBasedStatement"].(map[string]any); ok {
				action, _ := m["action"].(map[string]any)
				if rb["aggregateKeyType"] != "IP" || action["block"] == nil {
					t.Errorf("rate rule %v, want a block per source IP", m)
				}
				rate = num(rb["limit"])
			}
		}
		assertOneBodyLimit(t, acl)
		if acl["scope"] != "REGIONAL" || !slices.Equal(groups, managedRuleGroups) || rate != d.config.WAFRateLimit {
			t.Errorf("web ACL scope %v, groups %v, rate %d; want REGIONAL, %v, %d", acl["scope"], groups, rate, managedRuleGroups, d.config.WAFRateLimit)
		}
		assoc := d.one(t, "aws:wafv2/webAclAssociation:WebAclAssociation", "waf").Inputs
		if want := "arn:aws:apigateway:" + d.config.Region + "::/restapis/api0123456/stages/" + d.config.Stage; assoc["resourceArn"] != want {
			t.Errorf("web ACL associated with %v, want %s", assoc["resourceArn"], want)
		}
		logs := d.one(t, "aws:cloudwatch/logGroup:LogGroup", "waf-logs").Inputs
		conf := d.one(t, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "waf").Inputs
		wantGroup := "aws-waf-logs-licences-" + d.config.Stage
		if logs["name"] != wantGroup || num(logs["retentionInDays"]) != d.config.LogRetentionDays ||
			!slices.Equal(strs(conf["logDestinationConfigs"]), []string{"arn:aws:logs:" + d.config.Region + ":" + testAccount + ":log-group:" + wantGroup}) {
			t.Errorf("waf logs %v to %v, want %s kept %d days", conf["logDestinationConfigs"], logs, wantGroup, d.config.LogRetentionDays)
		}
	})
	if !slices.Contains(seen[true], "prod") || !slices.Contains(seen[false], "dev") || !slices.Contains(seen[false], "qldb") {
		t.Errorf("waf on %v and off %v, want on in prod, off in dev and qldb", seen[true], seen[false])
	}
}

// assertOneBodyLimit holds a web ACL to the API's body limit: the managed
// 8 KB body rule only counts, and a body over httpapi.MaxBodyBytes (or
// over what WAF inspects, as oversize) gets the API's 413 problem
// document, never a 403 for a body the API would take.
func assertOneBodyLimit(t *testing.T, acl map[string]any) {
	t.Helper()
	if _, ok := acl["associationConfig"]; ok {
		t.Errorf("associationConfig %v: the body limit relies on WAF's default inspection of 16 KB", acl["associationConfig"])
	}
	bodies, _ := acl["customResponseBodies"].([]any)
	var limits, counted int
	for _, r := range acl["rules"].([]any) {
		m := r.(map[string]any)
		st, _ := m["statement"].(map[string]any)
		if g, ok := st["managedRuleGroupStatement"].(map[string]any); ok && g["name"] == "AWSManagedRulesCommonRuleSet" {
			for _, o := range g["ruleActionOverrides"].([]any) {
				o := o.(map[string]any)
				if use, _ := o["actionToUse"].(map[string]any); o["name"] == "SizeRestrictions_BODY" && use["count"] != nil && len(use) == 1 {
					counted++
				}
			}
		}
		sc, ok := st["sizeConstraintStatement"].(map[string]any)
		if !ok {
			continue
		}
		limits++
		field, _ := sc["fieldToMatch"].(map[string]any)
		body, _ := field["body"].(map[string]any)
		block, _ := m["action"].(map[string]any)["block"].(map[string]any)
		custom, _ := block["customResponse"].(map[string]any)
		if sc["comparisonOperator"] != "GT" || num(sc["size"]) != httpapi.MaxBodyBytes || body["oversizeHandling"] != "MATCH" || num(m["priority"]) != 0 {
			t.Errorf("body rule %v, want bodies over %d bytes (or oversize) matched, first", m, httpapi.MaxBodyBytes)
		}
		if num(custom["responseCode"]) != 413 || len(bodies) != 1 || bodies[0].(map[string]any)["key"] != custom["customResponseBodyKey"] {
			t.Fatalf("body rule answers %v with bodies %v, want 413 and its problem document", custom, bodies)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(fmt.Sprint(bodies[0].(map[string]any)["content"])), &doc); err != nil || num(doc["status"]) != 413 ||
			doc["detail"] != fmt.Sprintf("the body may be at most %d bytes", httpapi.MaxBodyBytes) || bodies[0].(map[string]any)["contentType"] != "APPLICATION_JSON" {
			t.Errorf("the 413 body %v (%v), want the API's problem document", bodies[0], err)
		}
	}
	if limits != 1 || counted != 1 {
		t.Errorf("%d body size rules and %d SizeRestrictions_BODY count overrides, want one of each", limits, counted)
	}
}
