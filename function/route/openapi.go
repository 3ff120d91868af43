package route

import _ "embed"

// OpenAPI is the API's OpenAPI 3.1 document: every route, parameter,
// body, header and status, and the problem every error answers with. The
// route suite holds the handler to it (routetest.Contract), on both
// engines, so it cannot drift from what the handler does.
//
//go:embed openapi.yaml
var OpenAPI []byte
