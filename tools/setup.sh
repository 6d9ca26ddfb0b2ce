#!/usr/bin/env bash
# Sets up this checkout on a Debian or Ubuntu machine; every step checks first, says what it found or did, and
# installs only what is missing, so a second run takes about a second.
#
#   npm run setup                  everything the tests need (the default profile, `test`)
#   npm run setup -- main          only what `npm run up|preview|destroy|check|config` need
#   tools/setup.sh [test|main] [--check] [--print-env]
#
#   --check       report what is missing and exit 1 if anything is; install nothing
#   --print-env   print the `export PATH=...` line for the tools this script manages (what .ci/run evaluates)
#
# What it manages (the one list; .ci/run and the GitHub workflows call this script):
#   main: Node.js 22 when the machine's Node is older (the npm package node-linux-<arch>, into the cache below;
#         the project's npm scripts then run on it through node_modules/.bin/node), `npm ci` when node_modules
#         does not match package-lock.json.
#   test: main, plus the Debian packages below (apt-get, as root or through sudo), the Python packages of
#         test/requirements.txt in a virtual environment, Go (the toolchain module from the Go module proxy when
#         the machine's Go is missing or older than the engine tier needs), actionlint built from the proxy, and the
#         Go modules the tests read (Numaflow's CRDs).
# Everything but the Debian packages lands in ${CHARON_CACHE:-$HOME/.cache}: charon-node/, charon-python/,
# charon-go/, charon-tools/bin/ (actionlint, and go when this script fetched it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

node_version=22.23.3
node_major=22
# Debian packages the test tiers use: the harvester's real Prometheus (prometheus, promtool), shellcheck for the host
# scripts, openssl for test certificates, python3-venv for the read-back environment, curl and unzip to fetch Go,
# openssh-server and iproute2 for the engine tier's SSH test hosts.
debian_packages=(prometheus prometheus-node-exporter shellcheck openssl python3-venv ca-certificates curl unzip openssh-server iproute2)
# Services those packages start on install; tests start their own servers on free loopback ports, so a service this
# script installed is stopped and disabled again (services that were already installed are left alone).
declare -A package_services=([prometheus]="prometheus" [prometheus-node-exporter]="prometheus-node-exporter" [openssh-server]="ssh ssh.socket")
go_min_minor=26 # Go 1.26: the engine tier's minimum (actionlint needs 1.25)
go_toolchain=go1.26.8
# The toolchain modules' go.sum hashes (sum.golang.org), checked before the fetched Go is used.
declare -A go_toolchain_sums=([amd64]="h1:ZOmGe1OnfREDMIdb1Qi4G9JSuDPBLGExZMQ4nis1RXM=" [arm64]="h1:sYL/O6MqS68ML0kjsQ36WoYIpJqkw60TxizWUYUKQMc=")
actionlint_version=v1.7.12

profile="test"
check_only=0
print_env=0
for arg in "$@"; do
    case "$arg" in
        test | main) profile="$arg" ;;
        --check) check_only=1 ;;
        --print-env) print_env=1 ;;
        -h | --help)
            sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "setup: unknown argument \"$arg\"; usage: tools/setup.sh [test|main] [--check] [--print-env]" >&2
            exit 2
            ;;
    esac
done

cache="${CHARON_CACHE:-$HOME/.cache}"
node_prefix="$cache/charon-node"
venv="$cache/charon-python"
go_root="$cache/charon-go/$go_toolchain"
tools_bin="$cache/charon-tools/bin"
started=$SECONDS
missing_any=0

say() { printf 'setup: %s\n' "$*"; }
# A step that would have to install something: in --check mode it is reported and skipped.
needs() {
    if [ "$check_only" -eq 1 ]; then
        say "MISSING: $*"
        missing_any=1
        return 1
    fi
    say "$*"
}
fail() {
    printf 'setup: %s\n' "$*" >&2
    exit 1
}

case "$(uname -m)" in
    x86_64 | amd64) node_arch=x64 go_arch=amd64 ;;
    aarch64 | arm64) node_arch=arm64 go_arch=arm64 ;;
    *) fail "unsupported machine architecture $(uname -m); Node.js and Go are fetched for x86_64 or aarch64 only" ;;
esac
node_bin="$node_prefix/node_modules/node-linux-$node_arch/bin"

major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# The machine's own command: the first on PATH outside node_modules (npm puts node_modules/.bin first for scripts, and
# this script links its own Node, Go and Python there).
machine_cmd() {
    local dir
    local IFS=:
    for dir in $PATH; do
        case "$dir" in */node_modules/.bin) continue ;; esac
        if [ -n "$dir" ] && [ -x "$dir/$1" ] && [ ! -d "$dir/$1" ]; then
            printf '%s\n' "$dir/$1"
            return 0
        fi
    done
    return 1
}
machine_node="$(machine_cmd node || true)"

# The Go this script would use: the machine's when it is new enough, else the toolchain it fetched.
go_minor_of() { "$1" env GOVERSION 2>/dev/null | sed -nE 's/^go1\.([0-9]+).*/\1/p'; }
machine_go_ok() {
    local go minor
    go="$(machine_cmd go)" || return 1
    [ "$go" = "$tools_bin/go" ] && return 1
    minor="$(go_minor_of "$go")"
    [ -n "$minor" ] && [ "$minor" -ge "$go_min_minor" ]
}

if [ "$print_env" -eq 1 ]; then
    path_add="$tools_bin"
    if [ "$(major_of "${machine_node:-node}")" -lt "$node_major" ] && [ -x "$node_bin/node" ]; then
        path_add="$node_bin:$path_add"
    fi
    # shellcheck disable=SC2016 # $PATH is for the shell that evaluates this line
    printf 'export PATH="%s:$PATH"\n' "$path_add"
    exit 0
fi

# ---- Node.js ----------------------------------------------------------------------------------------------------
use_own_node=0
have_major="$(major_of "${machine_node:-node}")"
if [ "$have_major" -ge "$node_major" ]; then
    say "Node.js $("$machine_node" --version) on PATH"
else
    use_own_node=1
    have_node="$("${machine_node:-node}" --version 2>/dev/null || echo missing)"
    if [ -x "$node_bin/node" ] && [ "$("$node_bin/node" --version)" = "v$node_version" ]; then
        say "Node.js on PATH is $have_node (older than $node_major): using Node.js v$node_version from $node_prefix"
    elif needs "Node.js on PATH is $have_node (older than $node_major): installing Node.js v$node_version into $node_prefix (npm package node-linux-$node_arch)"; then
        machine_cmd npm >/dev/null || fail "npm is not installed: install Node.js and npm first (sudo apt-get install nodejs npm), then run this again"
        npm install --prefix "$node_prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-$node_arch@$node_version" >/dev/null
        [ -x "$node_bin/node" ] || fail "installing node-linux-$node_arch@$node_version did not produce $node_bin/node"
    fi
    export PATH="$node_bin:$PATH"
fi

# ---- npm packages -----------------------------------------------------------------------------------------------
# node_modules matches the lock when npm's own record of what it installed (node_modules/.package-lock.json) lists
# the lock's packages at the lock's versions (optional packages for other platforms may be absent).
npm_in_sync() {
    node -e '
        const fs = require("fs");
        let lock, installed;
        try {
            lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages;
            installed = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages;
        } catch { process.exit(1); }
        for (const [p, e] of Object.entries(lock)) {
            if (p === "") continue;
            const i = installed[p];
            if (i === undefined ? !e.optional : i.version !== e.version) process.exit(1);
        }
        for (const p of Object.keys(installed)) if (!(p in lock)) process.exit(1);
    ' 2>/dev/null
}
if npm_in_sync; then
    say "npm packages match package-lock.json"
elif needs "npm packages: running npm ci"; then
    npm ci --no-audit --no-fund --loglevel=error
fi
if [ "$use_own_node" -eq 0 ] && [ "$(readlink node_modules/.bin/node 2>/dev/null)" = "$node_bin/node" ] && [ "$check_only" -eq 0 ]; then
    rm node_modules/.bin/node # the machine's Node is new enough now
fi
if [ "$use_own_node" -eq 1 ] && [ -d node_modules/.bin ] && [ "$check_only" -eq 0 ]; then
    # npm puts node_modules/.bin first on PATH for every script: `npm test`, `npm run up` then run on Node 22.
    ln -sfn "$node_bin/node" node_modules/.bin/node
    say "npm scripts of this checkout run on Node.js v$node_version (node_modules/.bin/node); elsewhere: export PATH=\"$node_bin:\$PATH\""
fi

if [ "$profile" = main ]; then
    if [ "$missing_any" -eq 1 ]; then
        exit 1
    fi
    say "ready for npm run up|preview|destroy|check|config ($((SECONDS - started)) s)"
    exit 0
fi

# ---- Debian packages --------------------------------------------------------------------------------------------
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        if [ -t 0 ]; then sudo "$@"; else sudo -n "$@"; fi
    else
        fail "installing Debian packages needs root: run as root or install sudo, or install them yourself: apt-get install ${missing_packages[*]}"
    fi
}
missing_packages=()
command -v dpkg-query >/dev/null 2>&1 || fail "dpkg-query not found: this setup supports Debian and Ubuntu (install ${debian_packages[*]} yourself elsewhere)"
installed="$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${debian_packages[@]}" 2>/dev/null || true)"
for p in "${debian_packages[@]}"; do
    grep -qx "$p installed" <<<"$installed" || missing_packages+=("$p")
done
if [ "${#missing_packages[@]}" -eq 0 ]; then
    say "Debian packages present: ${debian_packages[*]}"
elif needs "Debian packages: installing ${missing_packages[*]}"; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null
    for p in "${missing_packages[@]}"; do
        for unit in ${package_services[$p]:-}; do
            if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
                as_root systemctl disable --now "$unit" >/dev/null 2>&1 || true
                say "  stopped and disabled $unit, which $p started (tests run their own servers)"
            elif [ "${unit%.socket}" = "$unit" ]; then
                as_root service "$unit" stop >/dev/null 2>&1 || true
                say "  stopped $unit, which $p started (no systemd here; tests run their own servers)"
            fi
        done
    done
fi

# ---- Python packages --------------------------------------------------------------------------------------------
python="$(machine_cmd python3 || true)"
requirements_sum="$( { sha256sum test/requirements.txt; "${python:-python3}" --version 2>&1; } | sha256sum | cut -c1-16)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.charon-requirements" 2>/dev/null)" = "$requirements_sum" ]; then
    say "Python packages of test/requirements.txt present in $venv"
elif needs "Python packages: installing test/requirements.txt into $venv"; then
    [ -n "$python" ] || fail "python3 not found (the Debian package python3-venv brings it)"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv" || fail "$python -m venv $venv failed: install the Debian package python3-venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r test/requirements.txt
    printf '%s\n' "$requirements_sum" >"$venv/.charon-requirements"
fi
# Tests run `python3` from PATH: npm scripts of this checkout get this environment's (node_modules/.bin comes first on
# their PATH). A wrapper, not a symlink: Python finds its virtual environment from the path it was started by.
if [ -x "$venv/bin/python" ] && [ -d node_modules/.bin ] && [ "$check_only" -eq 0 ]; then
    printf '#!/bin/sh\n# Written by tools/setup.sh: the Python environment of test/requirements.txt, for npm scripts.\nexec "%s" "$@"\n' "$venv/bin/python3" >node_modules/.bin/python3
    chmod 755 node_modules/.bin/python3
fi

# ---- Go and actionlint ------------------------------------------------------------------------------------------
go=""
if machine_go_ok; then
    go="$(machine_cmd go)"
    say "Go $("$go" env GOVERSION) on PATH"
elif [ -x "$go_root/bin/go" ]; then
    go="$go_root/bin/go"
    say "Go on PATH is missing or older than 1.$go_min_minor: using $go_toolchain from $go_root"
elif needs "Go on PATH is missing or older than 1.$go_min_minor: fetching $go_toolchain from the Go module proxy into $go_root"; then
    proxy="${GOPROXY:-https://proxy.golang.org}"
    proxy="${proxy%%[,|]*}"
    [ "$proxy" != direct ] && [ "$proxy" != off ] || proxy=https://proxy.golang.org
    module="golang.org/toolchain@v0.0.1-$go_toolchain.linux-$go_arch"
    staging="$(mktemp -d "${TMPDIR:-/tmp}/charon-go.XXXXXX")"
    trap 'rm -rf "$staging"' EXIT
    curl -fsSL --retry 3 -o "$staging/go.zip" "$proxy/golang.org/toolchain/@v/v0.0.1-$go_toolchain.linux-$go_arch.zip" ||
        fail "downloading $module from $proxy failed"
    # The module hash Go itself checks (dirhash h1: sha256 over the sorted "sha256  name" lines of the zip's files).
    sum="$("${python:-python3}" - "$staging/go.zip" <<'PY'
import base64, hashlib, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
lines = "".join("%s  %s\n" % (hashlib.sha256(z.read(n)).hexdigest(), n) for n in sorted(i.filename for i in z.infolist()))
print("h1:" + base64.b64encode(hashlib.sha256(lines.encode()).digest()).decode())
PY
)"
    [ "$sum" = "${go_toolchain_sums[$go_arch]}" ] || fail "$module from $proxy has hash $sum, expected ${go_toolchain_sums[$go_arch]}; not using it"
    unzip -q "$staging/go.zip" -d "$staging/x"
    mkdir -p "$(dirname "$go_root")"
    rm -rf "$go_root"
    mv "$staging/x/$module" "$go_root"
    go="$go_root/bin/go"
    "$go" version >/dev/null || fail "the fetched $go (from $module) does not run"
fi
if [ -n "$go" ] && [ "$go" = "$go_root/bin/go" ]; then
    mkdir -p "$tools_bin"
    ln -sfn "$go_root/bin/go" "$tools_bin/go"
    ln -sfn "$go_root/bin/gofmt" "$tools_bin/gofmt"
fi

if [ -x "$tools_bin/actionlint" ] && [ "$("$tools_bin/actionlint" -version 2>/dev/null | head -1)" = "$actionlint_version" ]; then
    say "actionlint $actionlint_version present in $tools_bin"
elif needs "actionlint: building $actionlint_version from the Go module proxy into $tools_bin"; then
    [ -n "$go" ] || fail "no Go to build actionlint with"
    mkdir -p "$tools_bin"
    GOBIN="$tools_bin" GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -trimpath" "$go" install "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version"
fi

# ---- Go modules the tests read -------------------------------------------------------------------------------
# Numaflow's CRDs and default controller config, from its Go module at the version the chart installs
# (components/versions.ts), in the Go module cache (test/helpers/numaflow.ts reads it there).
numaflow_version="$(sed -n 's/^export const numaflowVersion = "\(v[^"]*\)";/\1/p' components/versions.ts)"
if [ -n "$numaflow_version" ]; then
    modcache=""
    if [ -n "$go" ]; then
        modcache="$("$go" env GOMODCACHE 2>/dev/null || true)"
    fi
    if [ -n "$modcache" ] && [ -d "$modcache/github.com/numaproj/numaflow@$numaflow_version/config/base/crds/full" ]; then
        say "Go module github.com/numaproj/numaflow@$numaflow_version present in $modcache"
    elif needs "Go modules: downloading github.com/numaproj/numaflow@$numaflow_version (Numaflow's CRDs the tests check against)"; then
        [ -n "$go" ] || fail "no Go to download Go modules with"
        (cd "${TMPDIR:-/tmp}" && GOFLAGS="" GOTOOLCHAIN=local "$go" mod download "github.com/numaproj/numaflow@$numaflow_version")
    fi
fi

# Tests run `go` from PATH: when the machine's Go is missing or too old, npm scripts of this checkout get the one
# fetched above through node_modules/.bin (npm puts it first on PATH), as they get Node.
if [ "$go" != "$go_root/bin/go" ] && [ "$(readlink node_modules/.bin/go 2>/dev/null)" = "$go_root/bin/go" ] && [ "$check_only" -eq 0 ]; then
    rm node_modules/.bin/go # the machine's Go is new enough now
fi
if [ -n "$go" ] && [ "$go" = "$go_root/bin/go" ] && [ -d node_modules/.bin ] && [ "$check_only" -eq 0 ]; then
    ln -sfn "$go_root/bin/go" node_modules/.bin/go
    say "npm scripts of this checkout run Go $go_toolchain (node_modules/.bin/go); elsewhere: export PATH=\"$tools_bin:\$PATH\""
fi

if [ "$missing_any" -eq 1 ]; then
    say "something is missing: run tools/setup.sh${profile:+ $profile} (or npm run setup) to install it"
    exit 1
fi
say "ready for npm test ($((SECONDS - started)) s); tools this script manages: $tools_bin"
