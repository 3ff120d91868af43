// Package route lists the licence API's routes: the one list the handler
// serves and the stack deploys, so the two cannot drift apart.
package route

import "strings"

// Capability is what a route needs its caller to hold and its function to
// be: each is granted to callers by a client policy of its own, and served
// by a function with a role of its own.
type Capability string

// The capabilities.
const (
	// Licences: create, read, change and delete licences; the API function.
	Licences Capability = "licences"
	// Erasure: erase a deleted licence's personal data; the erase function.
	Erasure Capability = "erasure"
)

// Capabilities lists every capability.
func Capabilities() []Capability { return []Capability{Licences, Erasure} }

// Operation names what a route does, so the handler finds its code by the
// route itself instead of by a second copy of its method and path.
type Operation string

// The operations.
const (
	Create        Operation = "create"
	Get           Operation = "get"
	Delete        Operation = "delete"
	ChangeContact Operation = "changeContact"
	ChangePoints  Operation = "changePoints"
	History       Operation = "history"
	Erase         Operation = "erase"
)

// Route is one method on one path. Path parameters are written {name}, as
// API Gateway and net/http both write them.
type Route struct {
	Method     string
	Path       string
	Capability Capability
	Operation  Operation
}

// Routes returns the licence API's routes.
func Routes() []Route {
	return []Route{
		{"POST", "/licences", Licences, Create},
		{"GET", "/licences/{id}", Licences, Get},
		{"DELETE", "/licences/{id}", Licences, Delete},
		{"PUT", "/licences/{id}/contact", Licences, ChangeContact},
		{"POST", "/licences/{id}/penalty-points", Licences, ChangePoints},
		{"GET", "/licences/{id}/history", Licences, History},
		{"POST", "/licences/{id}/erasure", Erasure, Erase},
	}
}

// Of returns the routes of capability c.
func Of(c Capability) []Route {
	var out []Route
	for _, r := range Routes() {
		if r.Capability == c {
			out = append(out, r)
		}
	}
	return out
}

// Pattern is the route as a net/http ServeMux pattern, such as
// "GET /licences/{id}".
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// ARNPath is the route as the tail of an execute-api ARN, with every path
// parameter matched by *: POST/licences, GET/licences/*.
func (r Route) ARNPath() string {
	parts := strings.Split(r.Path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, "{") {
			parts[i] = "*"
		}
	}
	return r.Method + strings.Join(parts, "/")
}
