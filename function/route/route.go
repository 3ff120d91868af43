// Package route lists the licence API's routes: the one list the handler
// serves and the stack deploys, so the two cannot drift apart.
package route

import "strings"

// Route is one method on one path. Path parameters are written {name}, as
// API Gateway and net/http both write them.
type Route struct {
	Method string
	Path   string
}

// Routes returns the licence API's routes.
func Routes() []Route {
	return []Route{
		{"POST", "/licences"},
		{"GET", "/licences/{id}"},
		{"DELETE", "/licences/{id}"},
		{"PUT", "/licences/{id}/contact"},
		{"POST", "/licences/{id}/penalty-points"},
		{"GET", "/licences/{id}/history"},
	}
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
