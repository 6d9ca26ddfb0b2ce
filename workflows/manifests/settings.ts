/**
 * `charon:workflows.manifests`: your own workflows as part of the stack — files, directories or pinned URLs of
 * Kubernetes manifests and Numaflow Pipelines, deployed into the workflow namespace after the platform exists.
 */
import type { Problem } from "../../model/check";
import { DnsLabel, type Static, Type } from "../../model/schema";

export const ManifestEntrySchema = Type.Object({
    name: DnsLabel({ description: "Names this entry: its objects' resources, its start time in the `workflows` output, `npm run harvest -- --workflow NAME`." }),
    path: Type.Optional(Type.String({ description: "A YAML file, or a directory of .yaml/.yml files, relative to the project." })),
    url: Type.Optional(Type.String({
        pattern: "^https?://\\S+$", hint: "an http:// or https:// URL", description: "An http(s) URL of a YAML document (needs sha256).",
    })),
    sha256: Type.Optional(Type.String({
        pattern: "^[a-f0-9]{64}$", hint: "64 lower-case hex digits (sha256sum of the document)", description: "The document's SHA-256: a remote manifest must match it.",
    })),
    enabled: Type.Boolean({ default: true, description: "false removes exactly this entry's objects on the next `up`." }),
}, { additionalProperties: false, description: "One of your own workflows: a file, directory or pinned URL of manifests." });

export const ManifestsSchema = Type.Array(ManifestEntrySchema, {
    default: [], description: "Your own workflows: Kubernetes manifests and Numaflow Pipelines deployed into the workflow namespace.",
});

export type ManifestEntry = Static<typeof ManifestEntrySchema>;

/** Rules across an entry's keys and between entries; `root` prefixes every key. */
export function manifestSettingsProblems(entries: ManifestEntry[], root: string): Problem[] {
    const problems: Problem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${root}${key}`, message: `${root}${key}: ${message}` });
    const seen = new Map<string, number>();
    entries.forEach((e, i) => {
        const key = `workflows.manifests[${i}]`;
        if (seen.has(e.name)) {
            add(`${key}.name`, `${JSON.stringify(e.name)} is already used by workflows.manifests[${seen.get(e.name)}]; entry names must be unique`);
        }
        seen.set(e.name, i);
        if ((e.path === undefined) === (e.url === undefined)) {
            add(key, `entry ${JSON.stringify(e.name)} needs exactly one of path (a file or directory) and url`);
        }
        if (e.url !== undefined && e.sha256 === undefined) {
            add(`${key}.sha256`, `is required for the remote manifest ${e.url}: pin it with its sha256 (\`curl -sL ${e.url} | sha256sum\`)`);
        }
    });
    return problems;
}
