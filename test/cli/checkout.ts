/**
 * A throwaway copy of this checkout (the files git knows, node_modules linked) and a throwaway home, so tests run the
 * commands exactly as a user does — `npm run check`, `npm run config`, the README's walkthrough — without touching
 * the real repository or the real home directory.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const repoRoot = path.resolve(__dirname, "..", "..");

const scratches: string[] = [];

/** A new temporary directory, removed by removeScratch() (each suite's after hook). */
export function scratch(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `charon-${prefix}-`));
    scratches.push(dir);
    return dir;
}

export function removeScratch(): void {
    for (const dir of scratches.splice(0)) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export interface Checkout {
    root: string;
    home: string;
    /** Runs a bash command line in the checkout with the throwaway home; `env` adds to a minimal environment. */
    sh(command: string, opts?: { env?: NodeJS.ProcessEnv; input?: string; path?: string[] }): SpawnSyncReturns<string>;
    /** `git status --porcelain` of the copy (it is its own repository, committed once). */
    status(): string;
    remove(): void;
}

export function tempCheckout(): Checkout {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "charon-checkout-"));
    const root = path.join(base, "repo");
    const home = path.join(base, "home");
    fs.mkdirSync(root);
    fs.mkdirSync(home, { mode: 0o700 });
    const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" });
    if (listed.status !== 0) {
        throw new Error(`git ls-files failed: ${listed.stderr}`);
    }
    for (const file of listed.stdout.split("\0").filter((f) => f.length > 0 && fs.existsSync(path.join(repoRoot, f)))) {
        fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        fs.copyFileSync(path.join(repoRoot, file), path.join(root, file));
    }
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(root, "node_modules"));
    const git = (...args: string[]) => spawnSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.invalid", ...args], { cwd: root, encoding: "utf8" });
    git("init", "-q");
    fs.appendFileSync(path.join(root, ".git", "info", "exclude"), "node_modules\n");
    git("add", "-A");
    git("commit", "-q", "-m", "checkout");
    const nodeDir = path.dirname(process.execPath);
    return {
        root,
        home,
        sh: (command, opts = {}) => spawnSync("bash", ["-c", command], {
            cwd: root,
            encoding: "utf8",
            input: opts.input,
            env: {
                PATH: [...(opts.path ?? []), nodeDir, "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
                HOME: home,
                LANG: "C.UTF-8",
                npm_config_update_notifier: "false",
                PULUMI_SKIP_UPDATE_CHECK: "true",
                ...opts.env,
            },
        }),
        status: () => git("status", "--porcelain").stdout,
        remove: () => fs.rmSync(base, { recursive: true, force: true }),
    };
}

/**
 * Directories holding a Pulumi CLI for tests that need the real one: `pulumi` on PATH, the pinned install the commands
 * download (~/.pulumi/versions/), or the engine tier's build (tools/engine/build.sh, its cache). Undefined when the
 * machine has none; such tests skip, saying so.
 */
export function pulumiForTests(): { dirs: string[]; which: string } | undefined {
    const onPath = spawnSync("sh", ["-c", "command -v pulumi"], { encoding: "utf8" });
    if (onPath.status === 0) {
        return { dirs: [path.dirname(onPath.stdout.trim())], which: onPath.stdout.trim() };
    }
    const pinned = path.join(os.homedir(), ".pulumi", "versions", JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version, "bin");
    if (fs.existsSync(path.join(pinned, "pulumi"))) {
        return { dirs: [pinned], which: path.join(pinned, "pulumi") };
    }
    const cache = process.env.CHARON_ENGINE_CACHE ?? path.join(os.homedir(), ".cache", "charon-engine");
    const builds = fs.existsSync(cache) ? fs.readdirSync(cache).map((d) => path.join(cache, d))
        .filter((d) => fs.existsSync(path.join(d, ".complete")) && fs.existsSync(path.join(d, "bin", "pulumi")))
        .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs) : [];
    if (builds.length > 0) {
        return { dirs: [path.join(builds[0], "bin"), path.join(builds[0], "standin-bin")].filter((d) => fs.existsSync(d)), which: path.join(builds[0], "bin", "pulumi") };
    }
    return undefined;
}
