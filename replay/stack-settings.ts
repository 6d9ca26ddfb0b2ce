/**
 * The loops' settings for a replay: the stack's own file (Pulumi.<stack>.yaml: charon:controllers and the workflow
 * namespace), then `--set key=value` overrides of the replayed loop, resolved through the same schema as a
 * deployment (defaults filled, every problem reported at once).
 */
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import { checkValue } from "../model/check";
import { Type } from "../model/schema";
import { ControlLoopsSettingsSchema, type ControlLoopsSettings } from "../components/controllers/loops-settings";

export interface ReplaySettings {
    settings: ControlLoopsSettings;
    /** The workflow namespace (charon:workflows.aps.namespace), "default" when unset. */
    namespace: string;
    /** Where the settings came from, for the header line. */
    source: string;
}

const Root = Type.Object({ controllers: ControlLoopsSettingsSchema }, { additionalProperties: false });

/** key=value → [path, value]; the value is JSON when it parses (numbers, true/false, lists), else a string. */
export function parseAssignment(text: string): [string[], unknown] {
    const eq = text.indexOf("=");
    if (eq <= 0) {
        throw new Error(`--set ${JSON.stringify(text)}: expected key=value, e.g. --set kp=0.8 or --set params.framesPerReplica=100`);
    }
    const raw = text.slice(eq + 1);
    let value: unknown = raw;
    try {
        value = JSON.parse(raw);
    } catch {
        // a plain string such as 5s or 1500m
    }
    return [text.slice(0, eq).split("."), value];
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
    let node = target;
    for (const k of keys.slice(0, -1)) {
        if (typeof node[k] !== "object" || node[k] === null) {
            node[k] = {};
        }
        node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value;
}

/** The settings key a loop name maps to: pdReplicas, inplaceResize, or custom[i]. */
function loopKey(controllers: Record<string, any>, name: string): (string | number)[] {
    if (name === "pd-replicas") {
        return ["pdReplicas"];
    }
    if (name === "inplace-resize") {
        return ["inplaceResize"];
    }
    const custom = Array.isArray(controllers.custom) ? controllers.custom : [];
    const i = custom.findIndex((c: { name?: string }) => c?.name === name);
    if (i < 0) {
        const known = ["pd-replicas", "inplace-resize", ...custom.map((c: { name?: string }) => c?.name)].filter(Boolean);
        throw new Error(`--controller ${JSON.stringify(name)}: no such loop; known: ${known.join(", ")} (custom controllers come from charon:controllers.custom in the stack file)`);
    }
    return ["custom", i];
}

/** Reads the stack file (when given and present), applies overrides to the named loop, resolves. */
export function replaySettings(o: { stackFile?: string; controller: string; overrides: string[] }): ReplaySettings {
    let config: Record<string, any> = {};
    let source = "schema defaults (no stack file)";
    if (o.stackFile !== undefined && fs.existsSync(o.stackFile)) {
        let doc: any;
        try {
            doc = yaml.load(fs.readFileSync(o.stackFile, "utf8"));
        } catch (e) {
            throw new Error(`${o.stackFile} is not valid YAML: ${(e as Error).message}`);
        }
        config = (doc?.config ?? {}) as Record<string, any>;
        source = o.stackFile;
    }
    const controllers: Record<string, any> = structuredClone(config["charon:controllers"] ?? {});
    // Only the loops' keys: other controllers (actimanager) are not replayed.
    for (const k of Object.keys(controllers)) {
        if (!["pdReplicas", "inplaceResize", "custom"].includes(k)) {
            delete controllers[k];
        }
    }
    const key = loopKey(controllers, o.controller);
    let loop: Record<string, unknown>;
    if (key[0] === "custom") {
        loop = controllers.custom[key[1] as number];
    } else {
        loop = controllers[key[0] as string] ?? {};
        controllers[key[0] as string] = loop;
    }
    for (const assignment of o.overrides) {
        const [keys, value] = parseAssignment(assignment);
        setPath(loop, keys, value);
    }
    const { value, problems } = checkValue(Root, { controllers }, "charon:");
    if (problems.length > 0) {
        throw new Error(`invalid loop settings (${source}${o.overrides.length ? ` with --set ${o.overrides.join(" ")}` : ""}):\n  - ${problems.map((p) => p.message).join("\n  - ")}`);
    }
    const namespace = config["charon:workflows"]?.aps?.namespace;
    return { settings: value.controllers, namespace: typeof namespace === "string" ? namespace : "default", source };
}
