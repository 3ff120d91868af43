// Package awsapi is a stand-in for the few AWS API operations the
// program's preflight calls, served over HTTP so the real AWS SDK for Go v2
// talks to it as it would to AWS: Lambda's GetAccountSettings,
// GetFunctionConcurrency, GetFunctionConfiguration and Invoke of an
// inactive function (REST-JSON) and RDS's DescribeDBEngineVersions
// (the query protocol, answered in XML). Point the SDK at it with its
// endpoint override (a client's BaseEndpoint, or AWS_ENDPOINT_URL_LAMBDA
// and AWS_ENDPOINT_URL_RDS) and any static credentials.
//
// It answers only what it implements, as AWS documents it; any other
// operation, method, path or parameter is refused with 501 and a message
// naming it, so a caller that drifts from what the stand-in knows fails
// loudly instead of being answered by a guess.
package awsapi

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Account is the AWS account and region the stand-in answers for.
type Account struct {
	// ConcurrentExecutions is the account's Lambda concurrency quota in
	// the region (Service Quotas L-B99A9384); the unreserved executions
	// are what the functions' reservations leave of it.
	ConcurrentExecutions int
	// Functions are the functions that exist, by name, with the
	// executions each reserves (0: no reservation).
	Functions map[string]int
	// States are the functions' states (Active where not given):
	// Inactive, Pending or Failed. PendingPolls is how many times a
	// pending function is described before it is Active.
	States       map[string]string
	PendingPolls int
	// EngineVersions are what DescribeDBEngineVersions lists.
	EngineVersions []EngineVersion
	// Denied operations (such as "GetAccountSettings") are answered as
	// AWS answers a caller whose policies do not allow them.
	Denied []string
}

// EngineVersion is one engine version RDS offers in the region.
type EngineVersion struct {
	Engine  string // aurora-postgresql
	Version string // 16.8
	Family  string // the parameter group family: aurora-postgresql16
	Status  string // available (the default) or deprecated
	// ServerlessV2, when set, is the capacity range Aurora Serverless v2
	// supports on this version; nil: the version does not support it.
	ServerlessV2 *Capacity
}

// Capacity is a range of Aurora capacity units.
type Capacity struct{ Min, Max float64 }

// Server is a running stand-in.
type Server struct {
	URL string

	srv *httptest.Server
	mu  sync.Mutex
	acc Account
	log []string
	// polls counts each pending function's descriptions.
	polls map[string]int
}

// New starts a stand-in for a; Close stops it.
func New(a Account) *Server {
	s := &Server{acc: a, polls: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Calls are the operations answered so far, each as "Service:Operation
// region", in order: tests check what was asked, and where.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// The SigV4 credential scope names the region and the service signed for
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html).
var scopePattern = regexp.MustCompile(`Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request`)

var (
	functionConcurrencyPath   = regexp.MustCompile(`^/2019-09-30/functions/([^/]+)/concurrency$`)
	functionConfigurationPath = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/configuration$`)
	invocationsPath           = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations$`)
)

// functionName is the function a path names, unescaped.
func functionName(w http.ResponseWriter, pattern *regexp.Regexp, r *http.Request) (string, bool) {
	name, err := url.PathUnescape(pattern.FindStringSubmatch(r.URL.EscapedPath())[1])
	if err != nil {
		refuse(w, http.StatusBadRequest, "awsapi: function name: "+err.Error())
		return "", false
	}
	return name, true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	scope := scopePattern.FindStringSubmatch(r.Header.Get("Authorization"))
	if scope == nil {
		refuse(w, http.StatusBadRequest, "awsapi: the request is not signed with SigV4 (no credential scope in Authorization)")
		return
	}
	region, service := scope[1], scope[2]
	switch {
	case service == "lambda" && r.Method == http.MethodGet && r.URL.Path == "/2016-08-19/account-settings":
		s.accountSettings(w, region)
	case service == "lambda" && r.Method == http.MethodGet && functionConcurrencyPath.MatchString(r.URL.EscapedPath()):
		if name, ok := functionName(w, functionConcurrencyPath, r); ok {
			s.functionConcurrency(w, region, name)
		}
	case service == "lambda" && r.Method == http.MethodGet && functionConfigurationPath.MatchString(r.URL.EscapedPath()):
		if name, ok := functionName(w, functionConfigurationPath, r); ok {
			s.functionConfiguration(w, region, name)
		}
	case service == "lambda" && r.Method == http.MethodPost && invocationsPath.MatchString(r.URL.EscapedPath()):
		if name, ok := functionName(w, invocationsPath, r); ok {
			s.invoke(w, region, name)
		}
	case service == "rds" && r.Method == http.MethodPost && r.URL.Path == "/":
		s.rds(w, r, region)
	default:
		refuse(w, http.StatusNotImplemented, fmt.Sprintf("awsapi: %s %s signed for %s is not implemented by the stand-in", r.Method, r.URL.Path, service))
	}
}

// record notes a call and reports whether the account denies it.
func (s *Server) record(service, op, region string) (denied bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, service+":"+op+" "+region)
	return slices.Contains(s.acc.Denied, op)
}

// accountSettings answers GetAccountSettings
// (https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html):
// AccountLimit.ConcurrentExecutions is the quota, and
// UnreservedConcurrentExecutions what the functions' reservations leave
// of it (https://docs.aws.amazon.com/lambda/latest/api/API_AccountLimit.html).
func (s *Server) accountSettings(w http.ResponseWriter, region string) {
	if s.record("lambda", "GetAccountSettings", region) {
		lambdaDenied(w, "GetAccountSettings", "*")
		return
	}
	s.mu.Lock()
	reserved := 0
	for _, n := range s.acc.Functions {
		reserved += n
	}
	limit, functions := s.acc.ConcurrentExecutions, len(s.acc.Functions)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"AccountLimit": map[string]any{
			"TotalCodeSize":                  80530636800,
			"CodeSizeUnzipped":               262144000,
			"CodeSizeZipped":                 52428800,
			"ConcurrentExecutions":           limit,
			"UnreservedConcurrentExecutions": limit - reserved,
		},
		"AccountUsage": map[string]any{"TotalCodeSize": 0, "FunctionCount": functions},
	})
}

// functionConcurrency answers GetFunctionConcurrency
// (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConcurrency.html):
// the function's ReservedConcurrentExecutions, none for a function without
// a reservation, and 404 ResourceNotFoundException for one that does not
// exist.
func (s *Server) functionConcurrency(w http.ResponseWriter, region, name string) {
	if s.record("lambda", "GetFunctionConcurrency", region) {
		lambdaDenied(w, "GetFunctionConcurrency", name)
		return
	}
	s.mu.Lock()
	n, ok := s.acc.Functions[name]
	s.mu.Unlock()
	switch {
	case !ok:
		functionNotFound(w, region, name)
	case n == 0:
		writeJSON(w, http.StatusOK, map[string]any{})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"ReservedConcurrentExecutions": n})
	}
}

// state is a function's state, Active unless the account says otherwise.
func (s *Server) state(name string) string {
	if st, ok := s.acc.States[name]; ok {
		return st
	}
	return "Active"
}

// functionConfiguration answers GetFunctionConfiguration
// (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html)
// with the function's name and State, the fields the waiters read; a
// pending function turns Active after PendingPolls descriptions, as Lambda
// finishes recreating its resources; 404 ResourceNotFoundException for a
// function that does not exist.
func (s *Server) functionConfiguration(w http.ResponseWriter, region, name string) {
	if s.record("lambda", "GetFunctionConfiguration", region) {
		lambdaDenied(w, "GetFunctionConfiguration", name)
		return
	}
	s.mu.Lock()
	_, exists := s.acc.Functions[name]
	st := s.state(name)
	if exists && st == "Pending" {
		if s.polls[name]++; s.polls[name] > s.acc.PendingPolls {
			st = "Active"
			s.acc.States[name] = st
		}
	}
	s.mu.Unlock()
	if !exists {
		functionNotFound(w, region, name)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"FunctionName": name, "FunctionArn": fmt.Sprintf("arn:aws:lambda:%s:123456789012:function:%s", region, name),
		"State": st, "LastUpdateStatus": "Successful",
	})
}

// invoke answers Invoke of an inactive function as Lambda does: the
// invocation fails with 502 ResourceNotReadyException and the function
// turns Pending while Lambda recreates its resources, during which an
// invocation fails with 409 ResourceConflictException
// (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html,
// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html). It runs
// no code, so it refuses to invoke a function in any other state.
func (s *Server) invoke(w http.ResponseWriter, region, name string) {
	if s.record("lambda", "Invoke", region) {
		lambdaDenied(w, "InvokeFunction", name)
		return
	}
	s.mu.Lock()
	_, exists := s.acc.Functions[name]
	st := s.state(name)
	if exists && st == "Inactive" {
		if s.acc.States == nil {
			s.acc.States = map[string]string{}
		}
		s.acc.States[name] = "Pending"
	}
	s.mu.Unlock()
	switch {
	case !exists:
		functionNotFound(w, region, name)
	case st == "Inactive":
		lambdaError(w, http.StatusBadGateway, "ResourceNotReadyException",
			"The function is inactive and its VPC connection is no longer available. Wait for the VPC connection to reestablish and try again.")
	case st == "Pending":
		// "Lambda does not invoke a function during pending state":
		// Invoke's ResourceConflictException (409).
		lambdaError(w, http.StatusConflict, "ResourceConflictException",
			"The operation cannot be performed at this time. The function is currently in the following state: Pending")
	default:
		refuse(w, http.StatusNotImplemented, fmt.Sprintf("awsapi: the stand-in runs no function code; %s is %s", name, st))
	}
}

// functionNotFound is Lambda's answer about a function that does not
// exist: 404 ResourceNotFoundException (each operation's Errors section).
func functionNotFound(w http.ResponseWriter, region, name string) {
	lambdaError(w, http.StatusNotFound, "ResourceNotFoundException",
		fmt.Sprintf("Function not found: arn:aws:lambda:%s:123456789012:function:%s", region, name))
}

// lambdaDenied is Lambda's answer to a caller IAM does not allow: 403
// AccessDeniedException (the operations' Errors sections).
func lambdaDenied(w http.ResponseWriter, op, resource string) {
	lambdaError(w, http.StatusForbidden, "AccessDeniedException",
		fmt.Sprintf("User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: lambda:%s on resource: %s", op, resource))
}

// lambdaError is a REST-JSON error: the code in X-Amzn-ErrorType, the
// message in the body (https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#operation-error-serialization).
func lambdaError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	writeJSON(w, status, map[string]string{"Type": "User", "Message": message})
}

// rdsParameters are the DescribeDBEngineVersions parameters the stand-in
// honours; the query protocol sends only those a caller sets.
var rdsParameters = []string{"Action", "Version", "Engine", "DBParameterGroupFamily", "Marker", "MaxRecords"}

// rds answers the RDS query API's DescribeDBEngineVersions
// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBEngineVersions.html),
// filtered by Engine and DBParameterGroupFamily, every version in one page.
func (s *Server) rds(w http.ResponseWriter, r *http.Request, region string) {
	if err := r.ParseForm(); err != nil {
		refuse(w, http.StatusBadRequest, "awsapi: RDS request body: "+err.Error())
		return
	}
	if a := r.PostForm.Get("Action"); a != "DescribeDBEngineVersions" || r.PostForm.Get("Version") != "2014-10-31" {
		refuse(w, http.StatusNotImplemented, fmt.Sprintf("awsapi: RDS action %q (API version %q) is not implemented by the stand-in", a, r.PostForm.Get("Version")))
		return
	}
	for k := range r.PostForm {
		if !slices.Contains(rdsParameters, k) {
			refuse(w, http.StatusNotImplemented, fmt.Sprintf("awsapi: DescribeDBEngineVersions parameter %s is not implemented by the stand-in", k))
			return
		}
	}
	if m := r.PostForm.Get("MaxRecords"); m != "" {
		if n, err := strconv.Atoi(m); err != nil || n < 20 || n > 100 {
			rdsError(w, http.StatusBadRequest, "InvalidParameterValue", "MaxRecords must be between 20 and 100")
			return
		}
	}
	if s.record("rds", "DescribeDBEngineVersions", region) {
		rdsError(w, http.StatusForbidden, "AccessDenied",
			"User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: rds:DescribeDBEngineVersions")
		return
	}
	engine, family := r.PostForm.Get("Engine"), r.PostForm.Get("DBParameterGroupFamily")
	var out describeResponse
	s.mu.Lock()
	for _, v := range s.acc.EngineVersions {
		if (engine != "" && v.Engine != engine) || (family != "" && v.Family != family) {
			continue
		}
		status := v.Status
		if status == "" {
			status = "available"
		}
		x := xmlEngineVersion{Engine: v.Engine, EngineVersion: v.Version, DBParameterGroupFamily: v.Family, Status: status,
			MajorEngineVersion: strings.Split(v.Version, ".")[0], SupportedEngineModes: []string{"provisioned"}}
		if c := v.ServerlessV2; c != nil {
			x.ServerlessV2FeaturesSupport = &xmlCapacity{MinCapacity: c.Min, MaxCapacity: c.Max}
		}
		out.Result.Versions = append(out.Result.Versions, x)
	}
	s.mu.Unlock()
	out.RequestID = "00000000-0000-4000-8000-000000000000"
	writeXML(w, http.StatusOK, out)
}

// The DescribeDBEngineVersions response, as the query protocol writes it:
// the result element inside the response element, lists as member
// elements (https://smithy.io/2.0/aws/protocols/aws-query-protocol.html).
type describeResponse struct {
	XMLName xml.Name `xml:"http://rds.amazonaws.com/doc/2014-10-31/ DescribeDBEngineVersionsResponse"`
	Result  struct {
		Versions []xmlEngineVersion `xml:"DBEngineVersions>DBEngineVersion"`
	} `xml:"DescribeDBEngineVersionsResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type xmlEngineVersion struct {
	Engine                      string       `xml:"Engine"`
	EngineVersion               string       `xml:"EngineVersion"`
	MajorEngineVersion          string       `xml:"MajorEngineVersion"`
	DBParameterGroupFamily      string       `xml:"DBParameterGroupFamily"`
	Status                      string       `xml:"Status"`
	SupportedEngineModes        []string     `xml:"SupportedEngineModes>member"`
	ServerlessV2FeaturesSupport *xmlCapacity `xml:"ServerlessV2FeaturesSupport,omitempty"`
}

type xmlCapacity struct {
	MinCapacity float64 `xml:"MinCapacity"`
	MaxCapacity float64 `xml:"MaxCapacity"`
}

// rdsError is a query-protocol error document
// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html).
func rdsError(w http.ResponseWriter, status int, code, message string) {
	type body struct {
		XMLName xml.Name `xml:"http://rds.amazonaws.com/doc/2014-10-31/ ErrorResponse"`
		Error   struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}
	var b body
	b.Error.Type, b.Error.Code, b.Error.Message = "Sender", code, message
	b.RequestID = "00000000-0000-4000-8000-000000000000"
	writeXML(w, status, b)
}

// refuse answers what the stand-in does not implement, in plain text
// (http.Error: text/plain, nosniff).
func refuse(w http.ResponseWriter, status int, message string) {
	http.Error(w, message, status)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}
