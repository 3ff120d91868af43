package locals3

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Access is what S3 decides a caller's requests by: who the caller is and
// the policies that apply to its requests. The server evaluates them as
// AWS does for a role of the bucket's own account calling through a VPC
// endpoint (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// and https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html):
// an explicit Deny in any of them refuses the request; otherwise the
// endpoint policy must allow it, and the role's policies or the bucket's
// policy must allow it (within one account, either is enough).
//
// The policies are JSON documents, as the stack writes them. The server
// reads only what the stack's policies use, and Authorize refuses anything
// else rather than guess what AWS would make of it: Version 2012-10-17;
// statements of Sid, Effect, Principal (AWS: "*" or role ARNs), Action and
// Resource (lists, with * as the only wildcard), and Condition with the
// operators Bool, StringEquals and StringNotEquals on aws:SecureTransport
// and aws:PrincipalArn. A statement none of whose actions can be an S3
// action cannot decide an S3 request, and is passed over unread beyond its
// shape. Resources are in the aws partition.
type Access struct {
	// Principal is the caller: the ARN of the role whose credentials sign
	// its requests, as endpoint and bucket policies name it.
	Principal string
	// Identity are the role's policies.
	Identity []string
	// Endpoint is the policy of the VPC endpoint the requests come
	// through; "" when they come through none.
	Endpoint string
	// BucketPolicies are the buckets' policies, by bucket name; a bucket
	// not in it has none.
	BucketPolicies map[string]string
}

// access is an Access parsed and checked.
type access struct {
	principal string
	identity  []statement
	endpoint  []statement // nil without an endpoint
	viaVPCE   bool
	buckets   map[string][]statement
}

// request is what one request asks, as a policy sees it.
type request struct {
	action, resource, principal string
	secure                      bool // aws:SecureTransport
}

// allows reports whether a decides to allow r to the bucket.
func (a *access) allows(bucket string, r request) bool {
	all := [][]statement{a.identity, a.endpoint, a.buckets[bucket]}
	for _, stmts := range all {
		for _, s := range stmts {
			if s.effect == "Deny" && s.matches(r) {
				return false
			}
		}
	}
	if a.viaVPCE && !allowedBy(a.endpoint, r) {
		return false
	}
	return allowedBy(a.identity, r) || allowedBy(a.buckets[bucket], r)
}

func allowedBy(stmts []statement, r request) bool {
	for _, s := range stmts {
		if s.effect == "Allow" && s.matches(r) {
			return true
		}
	}
	return false
}

// statement is a policy statement the server evaluates.
type statement struct {
	sid        string
	effect     string
	principals []string // nil in an identity policy
	actions    []*regexp.Regexp
	resources  []*regexp.Regexp
	conditions []condition
}

type condition struct {
	operator, key string
	values        []string
}

func (s statement) matches(r request) bool {
	if s.principals != nil && !slices.Contains(s.principals, "*") && !slices.Contains(s.principals, r.principal) {
		return false
	}
	if !anyMatch(s.actions, r.action) || !anyMatch(s.resources, r.resource) {
		return false
	}
	for _, c := range s.conditions {
		if !c.holds(r) {
			return false
		}
	}
	return true
}

func (c condition) holds(r request) bool {
	var v string
	switch c.key {
	case "aws:SecureTransport":
		v = strconv.FormatBool(r.secure)
	case "aws:PrincipalArn":
		v = r.principal
	}
	equal := false
	for _, want := range c.values {
		if c.operator == "Bool" && strings.EqualFold(want, v) || c.operator != "Bool" && want == v {
			equal = true
		}
	}
	if c.operator == "StringNotEquals" {
		return !equal
	}
	return equal
}

func anyMatch(patterns []*regexp.Regexp, s string) bool {
	for _, p := range patterns {
		if p.MatchString(s) {
			return true
		}
	}
	return false
}

// The JSON form of the policies the server reads; any other field is
// refused.
type (
	policyJSON struct {
		Version   string
		Statement []statementJSON
	}
	statementJSON struct {
		Sid       string
		Effect    string
		Principal *struct{ AWS []string }
		Action    []string
		Resource  []string
		Condition map[string]map[string][]string
	}
)

// The condition operators and keys the server evaluates, with the
// operators each key may take.
var conditionKeys = map[string][]string{
	"aws:SecureTransport": {"Bool"},
	"aws:PrincipalArn":    {"StringEquals", "StringNotEquals"},
}

var roleARN = regexp.MustCompile(`^arn:aws:iam::\d{12}:role/[\w+=,.@/-]+$`)

// kind is which of the three policies a document is: identity policies
// name no principal, endpoint and bucket policies must.
type kind string

const (
	identityPolicy kind = "identity policy"
	endpointPolicy kind = "endpoint policy"
	bucketPolicy   kind = "bucket policy"
)

// parse reads a policy document, refusing what the server does not
// evaluate.
func parse(k kind, doc string) ([]statement, error) {
	var p policyJSON
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %w (the local S3 reads only the policy features the stack uses)", k, err)
	}
	if p.Version != "2012-10-17" {
		return nil, fmt.Errorf("%s: Version %q, want 2012-10-17", k, p.Version)
	}
	if len(p.Statement) == 0 {
		return nil, fmt.Errorf("%s: no statements", k)
	}
	var out []statement
	for i, sj := range p.Statement {
		s, relevant, err := parseStatement(k, sj)
		if err != nil {
			return nil, fmt.Errorf("%s: statement %d (%s): %w", k, i, sj.Sid, err)
		}
		if relevant {
			out = append(out, s)
		}
	}
	return out, nil
}

// parseStatement checks a statement and reports whether it can decide an
// S3 request at all.
func parseStatement(k kind, sj statementJSON) (statement, bool, error) {
	s := statement{sid: sj.Sid, effect: sj.Effect}
	if s.effect != "Allow" && s.effect != "Deny" {
		return s, false, fmt.Errorf("effect %q", s.effect)
	}
	if len(sj.Action) == 0 || len(sj.Resource) == 0 {
		return s, false, errors.New("no Action or no Resource")
	}
	switch {
	case k == identityPolicy && sj.Principal != nil:
		return s, false, errors.New("an identity policy names no Principal")
	case k != identityPolicy && (sj.Principal == nil || len(sj.Principal.AWS) == 0):
		return s, false, errors.New("no AWS Principal: the local S3 reads only AWS principals in endpoint and bucket policies")
	}
	relevant := false
	for _, a := range sj.Action {
		re, err := glob(a, true)
		if err != nil {
			return s, false, fmt.Errorf("action %q: %w", a, err)
		}
		service, _, _ := strings.Cut(a, ":")
		if a == "*" || glob0(strings.ToLower(service)).MatchString("s3") {
			relevant = true
		}
		s.actions = append(s.actions, re)
	}
	if !relevant {
		return s, false, nil
	}
	if sj.Principal != nil {
		for _, p := range sj.Principal.AWS {
			if p != "*" && !roleARN.MatchString(p) {
				return s, false, fmt.Errorf("principal %q: the local S3 reads only * and role ARNs", p)
			}
		}
		s.principals = sj.Principal.AWS
	}
	for _, r := range sj.Resource {
		re, err := glob(r, false)
		if err != nil {
			return s, false, fmt.Errorf("resource %q: %w", r, err)
		}
		s.resources = append(s.resources, re)
	}
	for op, keys := range sj.Condition {
		for key, values := range keys {
			ops, known := conditionKeys[key]
			if !known || !slices.Contains(ops, op) {
				return s, false, fmt.Errorf("condition %s on %s: the local S3 evaluates only %v", op, key, conditionKeys)
			}
			s.conditions = append(s.conditions, condition{operator: op, key: key, values: values})
		}
	}
	return s, true, nil
}

// glob compiles an IAM action or resource pattern, where * matches any
// run of characters; actions match regardless of case. The other wildcard
// (?) and policy variables are refused: the stack uses neither.
func glob(pattern string, foldCase bool) (*regexp.Regexp, error) {
	if strings.ContainsAny(pattern, "?") || strings.Contains(pattern, "${") {
		return nil, errors.New("the local S3 reads * as the only wildcard, and no policy variables")
	}
	re := glob0(pattern)
	if foldCase {
		re = regexp.MustCompile("(?i)" + re.String())
	}
	return re, nil
}

func glob0(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// compile parses every policy of a.
func compile(a Access) (*access, error) {
	if !roleARN.MatchString(a.Principal) {
		return nil, fmt.Errorf("locals3: principal %q: want a role ARN", a.Principal)
	}
	c := &access{principal: a.Principal, buckets: map[string][]statement{}}
	for i, doc := range a.Identity {
		stmts, err := parse(identityPolicy, doc)
		if err != nil {
			return nil, fmt.Errorf("locals3: identity policy %d: %w", i, err)
		}
		c.identity = append(c.identity, stmts...)
	}
	if a.Endpoint != "" {
		stmts, err := parse(endpointPolicy, a.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("locals3: %w", err)
		}
		c.endpoint, c.viaVPCE = stmts, true
	}
	for bucket, doc := range a.BucketPolicies {
		stmts, err := parse(bucketPolicy, doc)
		if err != nil {
			return nil, fmt.Errorf("locals3: bucket %s: %w", bucket, err)
		}
		c.buckets[bucket] = stmts
	}
	return c, nil
}
