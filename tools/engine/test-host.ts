// An SSH test host for the real-engine tier: a network namespace with its own address on a private /30, running
// sshd with key auth, whose root filesystem is an overlay of this machine's (so commands run against real tools,
// but everything they write lands in a throwaway upper directory that the tests can inspect).
//
//   const host = startTestHost();      // needs root, ip, sshd, ssh-keygen, unshare, chroot
//   try { host.ssh("uname -a"); host.writtenFiles(); } finally { host.teardown(); }
//
// Teardown always runs: call it in `finally`; it is also registered on process exit and on SIGINT/SIGTERM.
// Traffic only ever goes to the namespace's own address (10.250.x.y/30, chosen free at start).
import { execFileSync, spawn, spawnSync, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface TestHost {
    /** The namespace's address: what the program connects to over SSH. */
    readonly address: string;
    /** This machine's address on the same /30 (the test host sees us here). */
    readonly gateway: string;
    readonly port: number;
    readonly user: string;
    /** OpenSSH private key (PEM text) accepted by the host for `user`. */
    readonly privateKey: string;
    readonly privateKeyPath: string;
    /** The host's public key line ("ssh-ed25519 AAAA…"), for programs that pin host keys. */
    readonly hostPublicKey: string;
    /** Overlay upper directory: every file the host's commands create or change appears here. */
    readonly upperDir: string;
    /** Runs a shell command on the test host through the system ssh client. */
    ssh(command: string, input?: string): { status: number; stdout: string; stderr: string };
    /** Regular files and symlinks written on the host so far (paths as seen on the host), minus sshd's own. */
    writtenFiles(): string[];
    teardown(): void;
}

const REQUIRED_COMMANDS = ["ip", "/usr/sbin/sshd", "ssh", "ssh-keygen", "unshare", "chroot", "mount"];

/** Why the test host cannot start here, or undefined when it can. */
export function testHostUnavailable(): string | undefined {
    if (process.getuid && process.getuid() !== 0) {
        return "the SSH test host needs root (network namespaces, overlay mounts)";
    }
    for (const cmd of REQUIRED_COMMANDS) {
        const found = cmd.startsWith("/")
            ? fs.existsSync(cmd)
            : spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
        if (!found) {
            return `${cmd} is missing (apt-get install -y openssh-server openssh-client iproute2 util-linux)`;
        }
    }
    return undefined;
}

function alive(pid: number | undefined): boolean {
    if (!pid) {
        return false;
    }
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

function run(cmd: string, args: string[]): string {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** A /30 in 10.250.0.0/16 not used by any interface on this machine. */
function freeSubnet(): { host: string; ns: string } {
    const used = run("ip", ["-o", "-4", "addr", "show"]);
    for (let attempt = 0; attempt < 64; attempt++) {
        const third = Math.floor(Math.random() * 256);
        const base = Math.floor(Math.random() * 64) * 4;
        const prefix = `10.250.${third}.`;
        const taken = [base, base + 1, base + 2, base + 3].some((o) => used.includes(` ${prefix}${o}/`));
        if (!taken) {
            return { host: `${prefix}${base + 1}`, ns: `${prefix}${base + 2}` };
        }
    }
    throw new Error("no free /30 in 10.250.0.0/16");
}

// Stand-ins for what a plain Debian host in a namespace lacks: systemd (PID 1 is not systemd here).
// systemctl records every call, keeps enabled/active state in /var/lib/charon-fake-systemd, and on start/restart
// runs the unit's ExecStart once (bounded by `timeout`) so that services which write files on start do so.
const FAKE_SYSTEMCTL = `#!/bin/bash
# Test-host stand-in for systemctl (no systemd in a network namespace). Logs calls; tracks state in files.
set -uo pipefail
state=/var/lib/charon-fake-systemd
mkdir -p "$state"
echo "systemctl $*" >> /var/log/charon-fake-systemctl.log
args=()
for a in "$@"; do
    case "$a" in
        --now) now=1 ;;
        -*) ;;
        *) args+=("$a") ;;
    esac
done
verb="\${args[0]:-}"
units=("\${args[@]:1}")
unit_file() { local u="$1"; [[ "$u" == *.* ]] || u="$u.service"; for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do [ -f "$d/$u" ] && { echo "$d/$u"; return 0; }; done; return 1; }
start() {
    local u="$1" f exec_line
    touch "$state/$u.active"
    if f=$(unit_file "$u"); then
        exec_line=$(sed -n '/^ExecStart=/,/[^\\\\]$/p' "$f" | sed 's/^ExecStart=//; s/\\\\$//' | tr '\\n' ' ')
        if [ -n "$exec_line" ]; then
            timeout 20 bash -c "$exec_line" >> /var/log/charon-fake-systemctl.log 2>&1 || true
        fi
    fi
}
case "$verb" in
    daemon-reload|reset-failed|mask|unmask) exit 0 ;;
    enable) for u in "\${units[@]}"; do touch "$state/$u.enabled"; [ "\${now:-0}" = 1 ] && start "$u"; done; exit 0 ;;
    disable) for u in "\${units[@]}"; do rm -f "$state/$u.enabled"; [ "\${now:-0}" = 1 ] && rm -f "$state/$u.active"; done; exit 0 ;;
    start|restart|reload-or-restart|try-restart) for u in "\${units[@]}"; do start "$u"; done; exit 0 ;;
    stop|kill) for u in "\${units[@]}"; do rm -f "$state/$u.active"; done; exit 0 ;;
    is-active) [ -f "$state/\${units[0]}.active" ] && { echo active; exit 0; }; echo inactive; exit 3 ;;
    is-enabled) [ -f "$state/\${units[0]}.enabled" ] && { echo enabled; exit 0; }; echo disabled; exit 1 ;;
    status) [ -f "$state/\${units[0]}.active" ] && exit 0; exit 3 ;;
    list-unit-files|list-units) exit 0 ;;
    *) exit 0 ;;
esac
`;

let liveHosts: TestHost[] = [];
let handlersInstalled = false;

function installHandlers(): void {
    if (handlersInstalled) {
        return;
    }
    handlersInstalled = true;
    process.on("exit", () => liveHosts.forEach((h) => h.teardown()));
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
        process.on(sig, () => {
            liveHosts.forEach((h) => h.teardown());
            process.exit(130);
        });
    }
}

export function startTestHost(options: { name?: string } = {}): TestHost {
    const why = testHostUnavailable();
    if (why) {
        throw new Error(why);
    }
    installHandlers();
    const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`.slice(-6);
    const ns = `charon-th-${options.name ?? "host"}-${id}`;
    const vethHost = `cth${id}h`;
    const vethNs = `cth${id}n`;
    const { host: gateway, ns: address } = freeSubnet();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charon-testhost-"));
    const image = path.join(dir, "image");
    const upperDir = path.join(dir, "upper");
    const work = path.join(dir, "work");
    const merged = path.join(dir, "merged");
    // The image is bind-mounted over /etc/ssh and /usr/local/sbin of the overlay (a second overlay lower layer
    // inside "/" would overlap the first and the kernel refuses it with ELOOP).
    for (const d of [upperDir, work, merged, path.join(image, "etc/ssh"), path.join(image, "usr/local/sbin")]) {
        fs.mkdirSync(d, { recursive: true });
    }
    const keyPath = path.join(dir, "id_ed25519");
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "charon-engine-tier", "-f", keyPath]);
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "charon-test-host",
        "-f", path.join(image, "etc/ssh/charon_test_host_ed25519_key")]);
    fs.copyFileSync(`${keyPath}.pub`, path.join(image, "etc/ssh/charon_test_authorized_keys"));
    fs.writeFileSync(path.join(image, "etc/ssh/charon_test_sshd_config"), [
        "Port 22",
        `ListenAddress ${address}`,
        "HostKey /etc/ssh/charon_test_host_ed25519_key",
        "PidFile /run/charon-test-sshd.pid",
        "AuthorizedKeysFile /etc/ssh/charon_test_authorized_keys",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "AcceptEnv *",
        "MaxSessions 64",
        "MaxStartups 64:30:128",
        "Subsystem sftp internal-sftp",
        "",
    ].join("\n"));
    fs.writeFileSync(path.join(image, "usr/local/sbin/systemctl"), FAKE_SYSTEMCTL, { mode: 0o755 });

    let sshd: ChildProcess | undefined;
    let tornDown = false;
    const sshdLog = path.join(dir, "sshd.log");

    const teardown = (): void => {
        if (tornDown) {
            return;
        }
        tornDown = true;
        liveHosts = liveHosts.filter((h) => h !== host);
        // Every process in the namespace (sshd and its sessions) goes; the private mount namespace goes with them.
        const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout ?? "";
        for (const pid of pids.split(/\s+/).filter(Boolean)) {
            try {
                process.kill(Number(pid), "SIGKILL");
            } catch {
                // already gone
            }
        }
        if (sshd?.pid) {
            try {
                process.kill(-sshd.pid, "SIGKILL");
            } catch {
                // already gone
            }
        }
        spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
        spawnSync("ip", ["link", "del", vethHost], { stdio: "ignore" });
        // The overlay lives in the namespace's private mount table; if the kernel still holds it, unmount lazily.
        spawnSync("umount", ["-l", merged], { stdio: "ignore" });
        if (!process.env.CHARON_ENGINE_KEEP_TEST_HOST) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    };

    const ssh = (command: string, input?: string) => {
        const r = spawnSync("ssh", [
            "-i", keyPath, "-p", "22", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=5", `root@${address}`, command,
        ], { encoding: "utf8", input, timeout: 120_000 });
        return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    };

    const writtenFiles = (): string[] => {
        const out: string[] = [];
        const walk = (d: string) => {
            for (const e of fs.readdirSync(d, { withFileTypes: true })) {
                const p = path.join(d, e.name);
                if (e.isDirectory()) {
                    walk(p);
                } else if (e.isFile() || e.isSymbolicLink()) {
                    out.push("/" + path.relative(upperDir, p));
                }
            }
        };
        walk(upperDir);
        const own = [/^\/var\/log\/(lastlog|wtmp|btmp)$/, /^\/var\/lib\/charon-fake-systemd\//, /^\/root\/\.bash_history$/,
            /^\/var\/log\/charon-fake-systemctl\.log$/, /^\/root\/\.cache\//];
        return out.filter((p) => !own.some((re) => re.test(p))).sort();
    };

    const host: TestHost = {
        address, gateway, port: 22, user: "root",
        privateKey: fs.readFileSync(keyPath, "utf8"),
        privateKeyPath: keyPath,
        hostPublicKey: fs.readFileSync(path.join(image, "etc/ssh/charon_test_host_ed25519_key.pub"), "utf8").trim(),
        upperDir, ssh, writtenFiles, teardown,
    };
    liveHosts.push(host);

    try {
        run("ip", ["netns", "add", ns]);
        run("ip", ["link", "add", vethHost, "type", "veth", "peer", "name", vethNs]);
        run("ip", ["link", "set", vethNs, "netns", ns]);
        run("ip", ["addr", "add", `${gateway}/30`, "dev", vethHost]);
        run("ip", ["link", "set", vethHost, "up"]);
        run("ip", ["netns", "exec", ns, "ip", "addr", "add", `${address}/30`, "dev", vethNs]);
        run("ip", ["netns", "exec", ns, "ip", "link", "set", vethNs, "up"]);
        run("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
        // Mounts happen inside a private mount namespace owned by sshd: when it dies they disappear with it.
        const script = [
            "set -e",
            `mount -t overlay overlay -o lowerdir=/,upperdir=${upperDir},workdir=${work} ${merged}`,
            `mount --bind ${image}/etc/ssh ${merged}/etc/ssh`,
            `mount --bind ${image}/usr/local/sbin ${merged}/usr/local/sbin`,
            `mount --rbind /dev ${merged}/dev`,
            `mount -t proc proc ${merged}/proc`,
            `mount -t tmpfs tmpfs ${merged}/run`,
            `mount -t tmpfs tmpfs ${merged}/tmp`,
            `mkdir -p ${merged}/run/sshd`,
            `exec chroot ${merged} /usr/sbin/sshd -D -e -f /etc/ssh/charon_test_sshd_config`,
        ].join("\n");
        const logFd = fs.openSync(sshdLog, "a");
        sshd = spawn("ip", ["netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", script], { detached: true, stdio: ["ignore", logFd, logFd] });
        fs.closeSync(logFd);
        sshd.unref();
        const deadline = Date.now() + 30_000;
        for (;;) {
            const r = ssh("true");
            if (r.status === 0) {
                break;
            }
            if (Date.now() > deadline || !alive(sshd.pid)) {
                const logText = fs.existsSync(sshdLog) ? fs.readFileSync(sshdLog, "utf8") : "";
                throw new Error(`test host sshd did not come up on ${address}: ${r.stderr.trim()}\n${logText}`);
            }
            spawnSync("sleep", ["0.3"]);
        }
    } catch (e) {
        teardown();
        throw e;
    }
    return host;
}

// `tsx tools/engine/test-host.ts` starts a host, proves it works, and tears it down.
if (require.main === module) {
    const h = startTestHost({ name: "selftest" });
    try {
        console.log(`test host ${h.address} (gateway ${h.gateway})`);
        console.log(h.ssh("id -un; hostname; ip -4 -o addr show | awk '{print $2, $4}'; echo written > /etc/charon-selftest").stdout);
        console.log("written:", h.writtenFiles().join(" "));
    } finally {
        h.teardown();
    }
}
