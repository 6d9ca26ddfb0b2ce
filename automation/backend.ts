/**
 * How the project reaches its Pulumi backend, for the main-job commands (cli/) and the harvester's --stack alike: the
 * user's login or else the local file backend in the home directory, and for a local backend the passphrase of the
 * stacks' secrets. A folder of its own below both, so neither imports the other.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface BackendChoice {
    /** Environment for the Pulumi CLI (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE(_FILE) when we set them). */
    env: Record<string, string>;
    /** What the user must know (a passphrase was generated); nothing when all was in place. */
    notes: string[];
}

/** How a backend URL is shown: the local file backend by its directory. */
export function describeBackend(backend: string): string {
    return backend.startsWith("file://")
        ? `the local file backend in ${path.join(backend.slice("file://".length), ".pulumi")} (\`pulumi login\` chooses another)`
        : backend;
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

/** `~/.config/charon` (or `$XDG_CONFIG_HOME/charon`): the passphrase and the users' stack layers. */
export function configDir(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
    return path.join(env.XDG_CONFIG_HOME ?? path.join(home, ".config"), "charon");
}

/**
 * The backend the commands use, without side effects: the user's login, else the local file backend in the home
 * directory (named explicitly: file://~ is resolved by the CLI from the passwd entry, which differs from $HOME under
 * sudo and in sandboxes).
 */
export function backendUrl(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
    return loggedInBackend(env, home) ?? `file://${home}`;
}

/**
 * Chooses the backend (the user's login, else a local file backend under the home directory) and, for a local
 * backend, the passphrase source: PULUMI_CONFIG_PASSPHRASE(_FILE) when set, else a passphrase generated once and kept
 * 0600 in the user's config directory.
 */
export function chooseBackend(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): BackendChoice {
    const notes: string[] = [];
    const out: Record<string, string> = {};
    const backend = backendUrl(env, home);
    if (!loggedInBackend(env, home)) {
        out.PULUMI_BACKEND_URL = backend;
    }
    const local = backend.startsWith("file://");
    if (local && env.PULUMI_CONFIG_PASSPHRASE === undefined && env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined) {
        const file = path.join(configDir(env, home), "passphrase");
        if (!fs.existsSync(file)) {
            fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
            fs.writeFileSync(file, crypto.randomBytes(32).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
            notes.push(`Generated a passphrase for this machine's stack secrets in ${file} (mode 0600). Back it up: without it the stacks' secrets cannot be decrypted.`);
        }
        const mode = fs.statSync(file).mode & 0o777;
        if (mode & 0o077) {
            throw new Error(`${file} is readable by others (mode ${mode.toString(8)}); run \`chmod 600 ${file}\``);
        }
        out.PULUMI_CONFIG_PASSPHRASE_FILE = file;
    }
    return { env: out, notes };
}
