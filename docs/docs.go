// Package docs embeds the API's OpenAPI 3.1 document, docs/openapi.yaml:
// the local server serves it at /openapi.yaml and the tests validate every
// response they receive against it.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
