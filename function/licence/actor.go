package licence

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Actor is who made a change: the principal API Gateway authenticated, as
// it gave it, and, for a role session, the role's own ARN, which is what a
// caller is granted by (apiCallers names roles, not sessions).
type Actor struct {
	// Principal is the caller's ARN as authenticated: for a role session,
	// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
	Principal string `json:"principal"`
	// Role is arn:aws:iam::ACCOUNT:role/ROLE for a role session; empty
	// otherwise.
	Role string `json:"role,omitempty"`
}

// maxPrincipalLen bounds an actor's principal: IAM's own limit on an ARN.
const maxPrincipalLen = 2048

var (
	// assumedRole is an STS role session's ARN.
	assumedRole = regexp.MustCompile(`^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([\w+=,.@-]{1,64})/[\w+=,.@-]{2,64}$`)
	// principalARN is an IAM or STS principal's ARN: IAM names and paths
	// hold only these characters, none of which JSON escapes.
	principalARN = regexp.MustCompile(`^arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/:-]+$`)
	// localName is what a local actor may be called.
	localName = regexp.MustCompile(`^[\w+=,.@/:-]{1,256}$`)
)

// ErrNoActor reports a change nobody can be held to.
var ErrNoActor = errors.New("no authenticated caller")

// ActorOf returns the actor for a principal ARN as API Gateway gives it
// (the proxy request context's identity.userArn), with the role a role
// session belongs to. An empty principal is ErrNoActor.
func ActorOf(principal string) (Actor, error) {
	principal = strings.TrimSpace(principal)
	switch {
	case principal == "":
		return Actor{}, ErrNoActor
	case len(principal) > maxPrincipalLen || !principalARN.MatchString(principal):
		return Actor{}, fmt.Errorf("%w: %q is not an IAM principal's ARN", ErrNoActor, principal)
	}
	a := Actor{Principal: principal}
	if m := assumedRole.FindStringSubmatch(principal); m != nil {
		a.Role = fmt.Sprintf("arn:%s:iam::%s:role/%s", m[1], m[2], m[3])
	}
	return a, nil
}

// LocalActor is the actor of changes made outside AWS (the local server):
// a name the operator chose, never a client; "" is "local". A name must
// be 1 to 256 of the characters IAM names hold.
func LocalActor(name string) (Actor, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "local"
	}
	if !localName.MatchString(name) {
		return Actor{}, fmt.Errorf("local actor %q: want 1 to 256 letters, digits or +=,.@/:_-", name)
	}
	return Actor{Principal: name}, nil
}
