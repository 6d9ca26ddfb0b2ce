// Command pulumi-resource-kubernetes is the Pulumi Kubernetes provider, built for the engine tier from the
// provider's Go module (github.com/pulumi/pulumi-kubernetes/provider/v4 at the v4.25.0 release commit).
//
// Why a main package of our own: the module zip the proxy serves carries the provider's library and its
// cmd/pulumi-resource-kubernetes/{schema.json,terraform-mapping.json,generate.go}, but not the two files that
// main package embeds (schema-embed.json, terraform-mapping-embed.json: build outputs upstream). build.sh copies
// this package into a staging directory outside the repository, runs the module's own generate.go there (it
// writes both files from the shipped JSON and $VERSION), and builds. The generated JSON is never committed.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
