/**
 * Runs rendered cluster commands for real (bash/dash) against a throwaway root, with fake system commands on
 * PATH (test/cluster/fakes) that log their calls. No network, no real system changes.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const fakesDir = path.join(__dirname, "fakes");

export interface ScriptRun {
    status: number | null;
    stdout: string;
    stderr: string;
    /** Fake-command calls made during this run, one per line. */
    calls: string[];
}

export interface HostOptions {
    /** Contents of /etc/os-release. Defaults to Debian 12. */
    osRelease?: string;
    /** Put the fake nvidia-smi on PATH reporting this many GPUs (undefined: no nvidia-smi at all). */
    gpus?: number;
    /** firewalld running. */
    firewalld?: boolean;
    /** Packages already installed ("name version"). Defaults to the base packages. */
    packages?: string[];
    /** Run as this uid (non-zero: the scripts go through the fake sudo). */
    uid?: number;
}

export const debianRelease = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';

/** A fake machine: a root directory, a state directory for the fakes, and a call log. */
export class FakeHost {
    readonly root: string;
    readonly state: string;
    readonly log: string;
    options: HostOptions;
    private logOffset = 0;

    constructor(options: HostOptions = {}) {
        const base = fs.mkdtempSync(path.join(os.tmpdir(), "charon-host-"));
        this.root = path.join(base, "root");
        this.state = path.join(base, "state");
        this.log = path.join(base, "calls.log");
        fs.mkdirSync(path.join(this.root, "etc"), { recursive: true });
        fs.mkdirSync(this.state);
        fs.writeFileSync(this.log, "");
        fs.writeFileSync(path.join(this.root, "etc", "os-release"), options.osRelease ?? debianRelease);
        fs.writeFileSync(path.join(this.state, "packages"), (options.packages ?? ["curl 8.0", "ca-certificates 2023"]).map((p) => `${p}\n`).join(""));
        this.options = options;
    }

    /** The SSH user's home, where remote commands start (outside the host's root). */
    get home(): string {
        return path.dirname(this.root);
    }

    /** Runs a command text with `sh` (dash here) as the command provider's default shell would. */
    run(text: string, opts: { stdin?: string; env?: Record<string, string>; shell?: string } = {}): ScriptRun {
        const pathDirs = [path.join(fakesDir, "bin")];
        if (this.options.gpus !== undefined) {
            pathDirs.push(path.join(fakesDir, "gpu-bin"));
        }
        pathDirs.push("/usr/local/bin", "/usr/bin", "/bin");
        const result = spawnSync(opts.shell ?? "sh", ["-c", text], {
            cwd: this.home,
            input: opts.stdin ?? "",
            encoding: "utf8",
            env: {
                PATH: pathDirs.join(":"),
                HOME: this.home,
                CHARON_ROOT: this.root,
                CHARON_POLL_SECONDS: "0.05",
                FAKE_BIN: path.join(fakesDir, "bin"),
                FAKE_STATE: this.state,
                FAKE_LOG: this.log,
                FAKE_GPUS: String(this.options.gpus ?? 0),
                FAKE_FIREWALLD: this.options.firewalld ? "running" : "stopped",
                FAKE_UID: String(this.options.uid ?? 0),
                ...opts.env,
            },
        });
        const all = fs.readFileSync(this.log, "utf8");
        const calls = all.slice(this.logOffset).split("\n").filter((l) => l !== "");
        this.logOffset = all.length;
        return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
    }

    file(p: string): string {
        return fs.readFileSync(path.join(this.root, p), "utf8");
    }

    exists(p: string): boolean {
        return fs.existsSync(path.join(this.root, p));
    }

    mode(p: string): string {
        return (fs.statSync(path.join(this.root, p)).mode & 0o777).toString(8).padStart(4, "0");
    }

    write(p: string, content: string): void {
        fs.mkdirSync(path.dirname(path.join(this.root, p)), { recursive: true });
        fs.writeFileSync(path.join(this.root, p), content);
    }

    /** Marks a fake service running (as if k3s had been installed earlier). */
    setActive(service: string): void {
        fs.writeFileSync(path.join(this.state, `active-${service}`), "");
    }

    isActive(service: string): boolean {
        return fs.existsSync(path.join(this.state, `active-${service}`));
    }

    /** Registers a node with the fake API. */
    registerNode(name: string): void {
        fs.writeFileSync(path.join(this.state, `node-${name}`), "");
    }

    firewallRules(): string[] {
        const p = path.join(this.state, "firewalld.rules");
        return fs.existsSync(p) ? fs.readFileSync(p, "utf8").split("\n").filter((l) => l !== "") : [];
    }

    packages(): string[] {
        return fs.readFileSync(path.join(this.state, "packages"), "utf8").split("\n").filter((l) => l !== "");
    }
}

/** Lines of stderr reporting a change (created/updated/removed/installed/restarted/...). */
export function changeLines(stderr: string): string[] {
    return stderr.split("\n").filter((l) => /: (created|updated|removed|added|installed|restarted|started|changed|reinstalled|placed|reloaded|uninstalled|drained) /.test(l));
}
