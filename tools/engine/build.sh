#!/usr/bin/env bash
# Build the Pulumi engine binaries for the real-engine test tier from Go modules (nothing from release pages).
#
#   tools/engine/build.sh            build (or reuse) and print the bin directory on stdout
#   tools/engine/build.sh --force    rebuild even when the cache entry exists
#
# Output layout (outside the repo, keyed by a hash of go.mod, go.sum, this script and the module's own sources):
#   ${CHARON_ENGINE_CACHE:-$HOME/.cache/charon-engine}/<key>/bin/          pulumi, pulumi-language-nodejs, and every
#                                                                           real provider that go.mod pins
#   ${CHARON_ENGINE_CACHE:-$HOME/.cache/charon-engine}/<key>/standin-bin/  pulumi-resource-{command,random}
#                                                                           stand-ins (see cmd/pulumi-resource-standin)
# Progress and build times go to stderr; the only stdout line is the bin directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

force=0
if [ "${1:-}" = "--force" ]; then
    force=1
fi

log() { printf '[engine-build] %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
    log "go is not on PATH: the engine tier needs Go >= 1.26 (see tools/engine/README.md)"
    exit 1
fi

# Real providers built from their Go modules when go.mod pins them: "<module> <package> <binary>".
# None of them is served by the module proxy reachable here today (README.md has the exact errors); adding the
# module to go.mod (and tools.go) is all it takes for this script to build it and for run-tests.ts to prefer it.
real_providers=(
    "github.com/pulumi/pulumi-command/provider github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command pulumi-resource-command"
    "github.com/pulumi/pulumi-random/provider/v4 github.com/pulumi/pulumi-random/provider/v4/cmd/pulumi-resource-random pulumi-resource-random"
    "github.com/pulumi/pulumi-kubernetes/provider/v4 github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes pulumi-resource-kubernetes"
)

key="$({
    cat go.mod go.sum build.sh tools.go
    find cmd -type f -name '*.go' -print0 | LC_ALL=C sort -z | xargs -0 cat
} | sha256sum | cut -c1-16)"
cache_root="${CHARON_ENGINE_CACHE:-$HOME/.cache/charon-engine}"
dest="$cache_root/$key"
mkdir -p "$cache_root"

# One build at a time per cache root (parallel CI jobs, several developers' shells).
exec 9>"$cache_root/.lock"
flock 9

if [ "$force" -eq 0 ] && [ -f "$dest/.complete" ]; then
    log "warm: reusing $dest (key $key)"
    for f in "$dest"/bin/* "$dest"/standin-bin/*; do
        if [ -e "$f" ]; then
            log "  cached $(basename "$(dirname "$f")")/$(basename "$f")"
        fi
    done
    printf '%s\n' "$dest/bin"
    exit 0
fi

export GOFLAGS="-trimpath -mod=readonly"
export CGO_ENABLED=0
log "cold: building into $dest (key $key; GOCACHE=$(go env GOCACHE))"

staging="$(mktemp -d "$cache_root/.staging.XXXXXX")"
cleanup() { rm -rf "$staging"; }
trap cleanup EXIT
mkdir -p "$staging/bin" "$staging/standin-bin"

version_of() { go list -m -f '{{.Version}}' "$1"; }

total_start=$SECONDS
# No blanket `go mod download`: the module graph names versions the proxy does not serve (e.g. a gocloud.dev
# pseudo-version) although no built package needs them; `go build` fetches exactly what it compiles.

# build <output> <package> [ldflags...]
build() {
    local out="$1" pkg="$2" ldflags="-s -w ${3:-}"
    local start=$SECONDS
    go build -ldflags "$ldflags" -o "$out" "$pkg"
    log "  built $(basename "$out") in $((SECONDS - start))s"
}

sdk_version="$(version_of github.com/pulumi/pulumi/sdk/v3)"
cli_version="$(version_of github.com/pulumi/pulumi/pkg/v3)"
build "$staging/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$cli_version"
build "$staging/bin/pulumi-language-nodejs" ./cmd/pulumi-language-nodejs "-X main.version=${sdk_version#v}"

for entry in "${real_providers[@]}"; do
    read -r module pkg bin <<<"$entry"
    if version="$(go list -m -f '{{.Version}}' "$module" 2>/dev/null)" && [ -n "$version" ]; then
        build "$staging/bin/$bin" "$pkg" "-X $module/pkg/version.Version=${version#v}"
    else
        log "  skipped $bin: $module is not pinned in go.mod (not served by the module proxy; see README.md)"
    fi
done

build "$staging/standin-bin/pulumi-resource-standin" ./cmd/pulumi-resource-standin
for name in command random kubernetes; do
    ln -s pulumi-resource-standin "$staging/standin-bin/pulumi-resource-$name"
done

touch "$staging/.complete"
rm -rf "$dest"
mv "$staging" "$dest"
trap - EXIT
log "cold build total: $((SECONDS - total_start))s"
printf '%s\n' "$dest/bin"
