#!/usr/bin/env bash
# The stacks the workflows preview, check for drift and deploy: every committed stack file, as a JSON list of
# {"name": STACK, "file": PATH} for a job matrix. Committed stack files are Pulumi.<stack>.yaml at the repository root
# (except dev: a developer's own machine) and the examples stacks/examples/Pulumi.<stack>.yaml (a root file of the
# same name wins). Prints one line (the list) on stdout and a readable summary on stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

declare -A seen=()
entries=()
while IFS= read -r file; do
    name="${file##*/}"
    name="${name#Pulumi.}"
    name="${name%.yaml}"
    if [ "$name" = dev ] || [ -n "${seen[$name]:-}" ]; then
        continue
    fi
    seen[$name]=1
    entries+=("{\"name\":\"$name\",\"file\":\"$file\"}")
    printf 'stack %s from %s\n' "$name" "$file" >&2
done < <(git ls-files -- 'Pulumi.*.yaml' | LC_ALL=C sort; git ls-files -- 'stacks/examples/Pulumi.*.yaml' | LC_ALL=C sort)

if [ "${#entries[@]}" -eq 0 ]; then
    echo "no committed stack files besides Pulumi.dev.yaml" >&2
fi
(IFS=,; printf '[%s]\n' "${entries[*]:-}")
