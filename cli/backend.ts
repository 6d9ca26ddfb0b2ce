/** Backend and secrets-provider defaults for the main-job commands. */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface BackendChoice {
    /** Environment for the Pulumi CLI (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE(_FILE) when we set them). */
    env: Record<string, string>;
    /** What was decided, for the user. */
    notes: string[];
}

/** Whether the user is logged in to some backend (env var, or a current login in ~/.pulumi/credentials.json). */
export function loggedInBackend(env: NodeJS.ProcessEnv, home: string): string | undefined {
    if (env.PULUMI_BACKEND_URL) {
        return env.PULUMI_BACKEND_URL;
    }
    const credentials = path.join(env.PULUMI_HOME ?? path.join(home, ".pulumi"), "credentials.json");
    try {
        const current = JSON.parse(fs.readFileSync(credentials, "utf8")).current;
        return typeof current === "string" && current.length > 0 ? current : undefined;
    } catch {
        return undefined;
    }
}

function configDir(env: NodeJS.ProcessEnv, home: string): string {
    return path.join(env.XDG_CONFIG_HOME ?? path.join(home, ".config"), "charon");
}

/**
 * Chooses the backend (the user's login, else a local file backend under the home directory) and, for a local
 * backend, the passphrase source: PULUMI_CONFIG_PASSPHRASE(_FILE) when set, else a passphrase generated once and kept
 * 0600 in the user's config directory.
 */
export function chooseBackend(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): BackendChoice {
    const notes: string[] = [];
    const out: Record<string, string> = {};
    let backend = loggedInBackend(env, home);
    if (!backend) {
        // The file backend keeps its state in <dir>/.pulumi; name the home explicitly (file://~ is resolved by the
        // CLI from the passwd entry, which differs from $HOME under sudo and in sandboxes).
        backend = `file://${home}`;
        out.PULUMI_BACKEND_URL = backend;
        notes.push(`Not logged in to a Pulumi backend: using the local file backend in ${path.join(home, ".pulumi")} (run \`pulumi login\` to use another).`);
    }
    const local = backend.startsWith("file://");
    if (local && env.PULUMI_CONFIG_PASSPHRASE === undefined && env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined) {
        const file = path.join(configDir(env, home), "passphrase");
        if (!fs.existsSync(file)) {
            fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
            fs.writeFileSync(file, crypto.randomBytes(32).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
            notes.push(`Generated a passphrase for this machine's stack secrets in ${file} (mode 0600). Back it up: without it the stacks' secrets cannot be decrypted.`);
        } else {
            notes.push(`Using the stack-secrets passphrase in ${file}.`);
        }
        const mode = fs.statSync(file).mode & 0o777;
        if (mode & 0o077) {
            throw new Error(`${file} is readable by others (mode ${mode.toString(8)}); run \`chmod 600 ${file}\``);
        }
        out.PULUMI_CONFIG_PASSPHRASE_FILE = file;
    }
    return { env: out, notes };
}
