package httpapi

import (
	"context"
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/privateledger/licences/function/licence"
)

// ActorFunc says who sent a request, from what the platform vouches for
// and never from what the client wrote; an error refuses the request
// (403).
type ActorFunc func(*http.Request) (licence.Actor, error)

// GatewayActor is the principal API Gateway authenticated with Signature
// Version 4: the proxy request context's identity.userArn. A request
// without one (API Gateway's authorization off, or not API Gateway at all)
// has no actor.
func GatewayActor(r *http.Request) (licence.Actor, error) {
	gw, ok := core.GetAPIGatewayContextFromContext(r.Context())
	if !ok {
		return licence.Actor{}, licence.ErrNoActor
	}
	return licence.ActorOf(gw.Identity.UserArn)
}

// FixedActor is one actor for every request: the local server's, named by
// its operator.
func FixedActor(a licence.Actor) ActorFunc {
	return func(*http.Request) (licence.Actor, error) { return a, nil }
}

type actorKey struct{}

// withActor refuses a request that no one can be held to, and hands the
// actor of the rest to the routes.
func (a *api) withActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := a.actor(r)
		if err != nil {
			a.log.WarnContext(r.Context(), "request without an authenticated caller", "requestId", requestID(r), "error", err)
			writeProblem(w, r, http.StatusForbidden, "the request carries no authenticated identity: sign it with AWS Signature Version 4", nil)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, actor)))
	})
}

// actorOf is the request's actor, which withActor has checked.
func actorOf(r *http.Request) licence.Actor {
	a, _ := r.Context().Value(actorKey{}).(licence.Actor)
	return a
}
