// Command pulumi-resource-standin is a STAND-IN for the `command` and `random` resource providers.
//
// The real providers (github.com/pulumi/pulumi-command provider v1.2.1, github.com/pulumi/pulumi-random
// provider/v4 v4.21.2) cannot be fetched from the Go module proxy reachable here (see tools/engine/README.md for
// the exact errors). So that the engine tier still exercises the real CLI, the real language host protocol, the
// real @pulumi/command and @pulumi/random SDKs, secrets, replaceOnChanges, dependency ordering and real commands
// over SSH, build.sh installs this binary as `pulumi-resource-command` and `pulumi-resource-random` in a separate
// bin directory (…/standin-bin) that run-tests.ts puts on PATH *only* when the real binary is missing, and it
// says so in its output.
//
// The binary picks its personality from its own file name (pulumi-resource-<name>). It implements the subset of
// the providers' behaviour the program relies on:
//
//	command:local:Command, command:remote:Command  create/update/delete commands, environment, stdin, dir,
//	    interpreter, triggers (replace), addPreviousOutputInEnv, stdout/stderr outputs; remote runs over SSH
//	    with key or password auth (golang.org/x/crypto/ssh), environment passed with Setenv like upstream.
//	command:remote:CopyToRemote  a file asset or a directory/file archive copied to remotePath over SSH.
//	random:index/*  RandomPassword, RandomString, RandomId, RandomInteger, RandomUuid, RandomBytes, RandomPet:
//	    every input change replaces, results come from crypto/rand.
//
// The kubernetes provider is real (built from its module, see kubernetes-provider/); it has no stand-in.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Versions reported to the engine: the versions the npm SDKs in package.json request.
var (
	commandVersion = "1.2.1"
	randomVersion  = "4.21.2"
)

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-resource-")
	var maker func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error)
	switch name {
	case "command":
		maker = func(h *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
			return &commandProvider{base: base{name: "command", version: commandVersion, host: h}}, nil
		}
	case "random":
		maker = func(h *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
			return &randomProvider{base: base{name: "random", version: randomVersion, host: h}}, nil
		}
	default:
		fmt.Fprintf(os.Stderr, "pulumi-resource-standin: install me as pulumi-resource-command "+
			"or pulumi-resource-random (got %q)\n", filepath.Base(os.Args[0]))
		os.Exit(2)
	}
	if err := provider.Main(name, maker); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
