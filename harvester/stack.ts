/**
 * `--stack NAME [--experiment E]`: endpoint, tenant and window from a Pulumi stack's outputs.
 * Outputs used: metricsQueryUrl (in-cluster URL), metricsTenant, kubeconfig (secret YAML), experiments
 * (name → {window:{start,end}, run, resultsPath, workflow}). The automation API call sits behind
 * StackOutputsReader so tests inject outputs.
 */
import * as path from "node:path";
import type * as Yaml from "js-yaml";
import type { Endpoint } from "./http";
import { parseKubeconfig, serviceProxyEndpoint } from "./kube";
import { REPO_ROOT } from "./root";

/** js-yaml, loaded on first use (only --stack needs it, so a plain harvest does not pay for loading it). */
function yaml(): typeof Yaml {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("js-yaml") as typeof Yaml;
}

export interface ExperimentOutput {
    window: { start: string; end: string };
    run?: number;
    resultsPath?: string;
    workflow?: string;
}

export interface StackOutputs {
    metricsQueryUrl: string;
    metricsTenant?: string;
    kubeconfig: string;
    experiments?: Record<string, ExperimentOutput>;
    /** Your own workflows (charon:workflows.manifests): entry name → when its first object was created. */
    workflowStarts?: Record<string, string>;
}

/** Reads a stack's outputs (name → value). */
export type StackOutputsReader = (stackName: string, workDir: string) => Promise<Record<string, unknown>>;

export { REPO_ROOT };

/**
 * The real reader: Pulumi's automation API on the local workspace, with the CLI and backend the main-job commands
 * use (cli/): the \`pulumi\` on PATH, else the pinned CLI where \`npm run up\` installs it, and the same backend
 * choice. A harvest never installs the CLI itself: without one there is no stack of this machine to read.
 */
export const pulumiStackOutputs: StackOutputsReader = async (stackName, workDir) => {
    // require, not import(): the bundle is CommonJS and the SDK's automation folder is not an ES module entry.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LocalWorkspace, PulumiCommand } = require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
    const { pinnedInstallRoot } = await import("../automation/pulumi-cli");
    const { chooseBackend } = await import("../automation/backend");
    const { pulumiCliVersion } = await import("../components/versions");
    let pulumiCommand;
    try {
        pulumiCommand = await PulumiCommand.get();
    } catch {
        const root = pinnedInstallRoot();
        try {
            pulumiCommand = await PulumiCommand.get({ root });
        } catch {
            throw new Error(`the Pulumi CLI is not on PATH and not installed in ${root} (where npm run up installs Pulumi ${pulumiCliVersion}); `
                + `run npm run up once, or install Pulumi ${pulumiCliVersion} (https://www.pulumi.com/docs/install/) and put it on PATH`);
        }
    }
    const backend = chooseBackend();
    const stack = await LocalWorkspace.selectStack({ stackName, workDir }, { pulumiCommand, envVars: backend.env });
    const out = await stack.outputs();
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.value]));
};

/** Checks the outputs the harvester relies on, naming what is missing. */
export function checkStackOutputs(stackName: string, raw: Record<string, unknown>): StackOutputs {
    const missing = (name: string): never => {
        throw new Error(`stack "${stackName}" has no usable output "${name}" (is the monitoring layer deployed?)`);
    };
    const url = raw.metricsQueryUrl;
    if (typeof url !== "string" || url === "") {
        missing("metricsQueryUrl");
    }
    let kubeconfig = raw.kubeconfig;
    if (kubeconfig !== null && typeof kubeconfig === "object") {
        kubeconfig = yaml().dump(kubeconfig);
    }
    if (typeof kubeconfig !== "string" || kubeconfig === "") {
        missing("kubeconfig");
    }
    const tenant = raw.metricsTenant;
    return {
        metricsQueryUrl: url as string,
        metricsTenant: typeof tenant === "string" && tenant !== "" ? tenant : undefined,
        kubeconfig: kubeconfig as string,
        experiments: (raw.experiments ?? undefined) as Record<string, ExperimentOutput> | undefined,
        workflowStarts: (raw.workflowStarts ?? undefined) as Record<string, string> | undefined,
    };
}

export interface StackTarget {
    endpoint: Endpoint;
    tenant?: string;
    /** Experiment window (RFC 3339) when --experiment was given. */
    window?: { start: string; end: string };
    /** Default output path from the experiment's resultsPath. */
    output?: string;
}

/**
 * Turns stack outputs (and optionally one experiment, or one of your own workflows) into what the harvest needs.
 * A workflow's window runs from when the stack created it to now.
 */
export function stackTarget(stackName: string, outputs: StackOutputs, experiment: string | undefined, format: string, workflow?: string): StackTarget {
    const endpoint = serviceProxyEndpoint(parseKubeconfig(outputs.kubeconfig), outputs.metricsQueryUrl);
    const target: StackTarget = { endpoint, tenant: outputs.metricsTenant };
    if (workflow !== undefined) {
        const starts = outputs.workflowStarts ?? {};
        const started = starts[workflow];
        if (typeof started !== "string" || started === "") {
            const known = Object.keys(starts);
            throw new Error(`stack "${stackName}" has no workflow "${workflow}" of charon:workflows.manifests (known: ${known.length > 0 ? known.join(", ") : "none"})`);
        }
        target.window = { start: started, end: "now" };
    }
    if (experiment !== undefined) {
        const exps = outputs.experiments ?? {};
        const e = exps[experiment];
        if (e === undefined) {
            const known = Object.keys(exps);
            throw new Error(`stack "${stackName}" has no experiment "${experiment}" (known: ${known.length > 0 ? known.join(", ") : "none"})`);
        }
        if (e.window === undefined || typeof e.window.start !== "string" || typeof e.window.end !== "string") {
            throw new Error(`experiment "${experiment}" of stack "${stackName}" has no window {start, end}`);
        }
        target.window = e.window;
        if (typeof e.resultsPath === "string" && e.resultsPath !== "") {
            const looksLikeDir = e.resultsPath.endsWith("/") || path.extname(e.resultsPath) === "";
            target.output = looksLikeDir ? path.join(e.resultsPath, `metrics.${format}`) : e.resultsPath;
        }
    }
    return target;
}
