//go:build tools

// Package tools pins the Go modules whose commands build.sh builds. Blank imports keep them in go.mod and
// go.sum under `go mod tidy`; the module's own commands live in ./cmd.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
