// SSH test hosts for the engine tier, on a private lab network.
//
// A lab is a network namespace holding a bridge; this machine joins it with one address (the gateway) and every
// test host is a network namespace of its own on that bridge, so hosts reach each other (agents join the server)
// and this machine reaches all of them, without IP forwarding and without touching any other address: the lab
// uses a free /24 in 10.250.0.0/16. Each host runs sshd with key auth; its root filesystem is an overlay of this
// machine's, so commands run against real tools while every write lands in a throwaway upper directory the
// tests inspect. Extra namespaces with one address each ("pods", e.g. a simulated pod's IP) can join the bridge.
//
//   const lab = startLab("eng");                 // needs root, ip, sshd, ssh-keygen, unshare, chroot
//   const host = lab.addHost({ name: "server" });
//   try { host.ssh("uname -a"); host.writtenFiles(); } finally { lab.teardown(); }
//
// Teardown always runs: call it in `finally`; it is also registered on process exit and on SIGINT/SIGTERM.
import { execFileSync, spawn, spawnSync, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface TestHost {
    readonly name: string;
    /** The host's address on the lab network: what the program connects to over SSH. */
    readonly address: string;
    /** This machine's address on the lab network (the host sees us here). */
    readonly gateway: string;
    /** The host's network namespace (for `ip netns exec`). */
    readonly netns: string;
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
    ssh(command: string, input?: string, timeoutMs?: number): { status: number; stdout: string; stderr: string };
    /** The argv that runs `command` on the host over ssh (for long-running, streamed commands). */
    sshArgv(command: string): string[];
    /** Regular files and symlinks written on the host so far (paths as seen on the host), minus the harness's own. */
    writtenFiles(): string[];
    /** Routes `cidr` from this host over the lab bridge (e.g. simulated pod IPs living in lab namespaces). */
    routeOnLink(cidr: string): void;
    /** Writes a file under /opt/charon-test on the host (visible there at once, read-only for the host). */
    putFile(rel: string, content: string | Buffer, mode?: number): void;
    teardown(): void;
}

export interface HostOptions {
    name: string;
    /** Files under /opt/charon-test on the host (read-only bind of a directory the tier fills). */
    files?: Record<string, { content: string | Buffer; mode?: number }>;
    /** Directories of this machine bind-mounted (read-write) at the same path on the host. */
    binds?: string[];
    /** Directories of this machine bind-mounted read-only at the same path (e.g. the checkout, when under /tmp). */
    readOnlyBinds?: string[];
    /** Directories of this machine bind-mounted read-only at /opt/charon-test/<name>. */
    readOnly?: Record<string, string>;
    /** Executables added to the host's /usr/local/sbin (first on root's PATH), e.g. an nvidia-smi stand-in. */
    sbin?: Record<string, string>;
}

/** A namespace with one address on the lab bridge, e.g. the simulated pod whose IP a Service endpoint names. */
export interface LabPod {
    readonly netns: string;
    readonly address: string;
    teardown(): void;
}

export interface Lab {
    readonly name: string;
    /** This machine's address on the lab network. */
    readonly gateway: string;
    readonly hosts: TestHost[];
    addHost(options: HostOptions): TestHost;
    /** A namespace holding `address`/32 on the bridge, routing the lab subnet back on-link. */
    addPod(address: string): LabPod;
    teardown(): void;
}

const REQUIRED_COMMANDS = ["ip", "/usr/sbin/sshd", "ssh", "ssh-keygen", "unshare", "chroot", "mount"];

/** Why the test hosts cannot start here, or undefined when they can. */
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

function quiet(cmd: string, args: string[]): void {
    spawnSync(cmd, args, { stdio: "ignore" });
}

/** A /24 in 10.250.0.0/16 that no address or route of this machine uses. */
function freeSubnet(): string {
    const used = run("ip", ["-o", "-4", "addr", "show"]) + run("ip", ["-4", "route", "show", "table", "all"]);
    for (let attempt = 0; attempt < 64; attempt++) {
        const prefix = `10.250.${Math.floor(Math.random() * 256)}.`;
        if (!used.includes(prefix)) {
            return prefix;
        }
    }
    throw new Error("no free /24 in 10.250.0.0/16");
}

// Stand-ins for what a plain Debian host in a namespace lacks: systemd (PID 1 is not systemd here).
// systemctl records every call, keeps enabled/active state in /var/lib/charon-fake-systemd, and on start/restart
// runs the unit's ExecStart once (bounded by `timeout`) so that services which write files on start do so. A start
// whose ExecStart fails fails like systemd's `Job for X failed`; one still running at the bound counts as started.
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
    local u="$1" f exec_line rc
    if f=$(unit_file "$u"); then
        exec_line=$(sed -n '/^ExecStart=/,/[^\\\\]$/p' "$f" | sed 's/^ExecStart=//; s/\\\\$//' | tr '\\n' ' ')
        if [ -n "$exec_line" ]; then
            timeout 20 bash -c "$exec_line" >> /var/log/charon-fake-systemctl.log 2>&1
            rc=$?
            if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
                rm -f "$state/$u.active"
                echo "Job for $u failed because the control process exited with error code (exit $rc)." >&2
                echo "See /var/log/charon-fake-systemctl.log on the test host for details." >&2
                return 1
            fi
        fi
    fi
    touch "$state/$u.active"
}
case "$verb" in
    daemon-reload|reset-failed|mask|unmask) exit 0 ;;
    enable) for u in "\${units[@]}"; do touch "$state/$u.enabled"; [ "\${now:-0}" = 1 ] && { start "$u" || exit 1; }; done; exit 0 ;;
    disable) for u in "\${units[@]}"; do rm -f "$state/$u.enabled"; [ "\${now:-0}" = 1 ] && rm -f "$state/$u.active"; done; exit 0 ;;
    start|restart|reload-or-restart|try-restart) for u in "\${units[@]}"; do start "$u" || exit 1; done; exit 0 ;;
    stop|kill) for u in "\${units[@]}"; do rm -f "$state/$u.active"; done; exit 0 ;;
    is-active) [ -f "$state/\${units[0]}.active" ] && { echo active; exit 0; }; echo inactive; exit 3 ;;
    is-enabled) [ -f "$state/\${units[0]}.enabled" ] && { echo enabled; exit 0; }; echo disabled; exit 1 ;;
    status) [ -f "$state/\${units[0]}.active" ] && exit 0; exit 3 ;;
    list-unit-files|list-units) exit 0 ;;
    *) exit 0 ;;
esac
`;

let liveLabs: Lab[] = [];
let handlersInstalled = false;

function installHandlers(): void {
    if (handlersInstalled) {
        return;
    }
    handlersInstalled = true;
    process.on("exit", () => liveLabs.forEach((l) => l.teardown()));
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
        process.on(sig, () => {
            liveLabs.forEach((l) => l.teardown());
            process.exit(130);
        });
    }
}

function killNetns(ns: string): void {
    const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout ?? "";
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
        try {
            process.kill(Number(pid), "SIGKILL");
        } catch {
            // already gone
        }
    }
}

export function startLab(name: string): Lab {
    const why = testHostUnavailable();
    if (why) {
        throw new Error(why);
    }
    installHandlers();
    const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`.slice(-5);
    const labNs = `charon-lab-${name}-${id}`;
    const prefix = freeSubnet();
    const gateway = `${prefix}1`;
    const rootIf = `cl${id}r`;
    const hosts: TestHost[] = [];
    const pods: LabPod[] = [];
    let next = 2;
    let links = 0;
    let tornDown = false;

    /** A veth whose one end is on the bridge (in the lab namespace) and the other in `ns` as `inner`. */
    const plug = (ns: string | undefined, inner: string): void => {
        const outer = `cl${id}${(links++).toString(36)}`;
        run("ip", ["link", "add", outer, "type", "veth", "peer", "name", inner]);
        run("ip", ["link", "set", outer, "netns", labNs]);
        run("ip", ["netns", "exec", labNs, "ip", "link", "set", outer, "master", "br0", "up"]);
        if (ns !== undefined) {
            run("ip", ["link", "set", inner, "netns", ns]);
        }
    };

    const lab: Lab = {
        name, gateway, hosts,
        addHost: (options) => {
            const host = startHost(lab, labNs, `${prefix}${next++}`, id, options, plug);
            hosts.push(host);
            return host;
        },
        addPod: (address) => {
            const ns = `charon-pod-${id}-${address.replace(/\./g, "-")}`;
            run("ip", ["netns", "add", ns]);
            const inner = `cp${id}${pods.length.toString(36)}`;
            plug(ns, inner);
            const inNs = (...args: string[]) => run("ip", ["netns", "exec", ns, ...args]);
            inNs("ip", "link", "set", inner, "name", "eth0");
            inNs("ip", "addr", "add", `${address}/32`, "dev", "eth0");
            inNs("ip", "link", "set", "eth0", "up");
            inNs("ip", "link", "set", "lo", "up");
            inNs("ip", "route", "add", `${prefix}0/24`, "dev", "eth0", "scope", "link");
            const pod: LabPod = {
                netns: ns, address,
                teardown: () => {
                    killNetns(ns);
                    quiet("ip", ["netns", "del", ns]);
                },
            };
            pods.push(pod);
            return pod;
        },
        teardown: () => {
            if (tornDown) {
                return;
            }
            tornDown = true;
            liveLabs = liveLabs.filter((l) => l !== lab);
            for (const p of pods) {
                p.teardown();
            }
            for (const h of hosts) {
                h.teardown();
            }
            killNetns(labNs);
            quiet("ip", ["netns", "del", labNs]);
            quiet("ip", ["link", "del", rootIf]);
        },
    };
    liveLabs.push(lab);
    try {
        run("ip", ["netns", "add", labNs]);
        run("ip", ["netns", "exec", labNs, "ip", "link", "add", "br0", "type", "bridge"]);
        run("ip", ["netns", "exec", labNs, "ip", "link", "set", "br0", "up"]);
        run("ip", ["netns", "exec", labNs, "ip", "link", "set", "lo", "up"]);
        plug(undefined, rootIf);
        run("ip", ["addr", "add", `${gateway}/24`, "dev", rootIf]);
        run("ip", ["link", "set", rootIf, "up"]);
    } catch (e) {
        lab.teardown();
        throw e;
    }
    return lab;
}

function startHost(lab: Lab, labNs: string, address: string, labId: string, options: HostOptions,
    plug: (ns: string | undefined, inner: string) => void): TestHost {
    const hostId = address.split(".").pop()!;
    const ns = `charon-th-${options.name}-${labId}`.slice(0, 60);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `charon-testhost-${options.name}-`));
    const image = path.join(dir, "image");
    const upperDir = path.join(dir, "upper");
    const work = path.join(dir, "work");
    const merged = path.join(dir, "merged");
    const optDir = path.join(image, "opt", "charon-test");
    // The image is bind-mounted over /etc/ssh, /usr/local/sbin and /opt/charon-test of the overlay (a second
    // overlay lower layer inside "/" would overlap the first and the kernel refuses it with ELOOP).
    for (const d of [upperDir, work, merged, path.join(image, "etc/ssh"), path.join(image, "usr/local/sbin"), optDir]) {
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
        "ClientAliveInterval 30",
        "Subsystem sftp internal-sftp",
        "",
    ].join("\n"));
    fs.writeFileSync(path.join(image, "usr/local/sbin/systemctl"), FAKE_SYSTEMCTL, { mode: 0o755 });
    for (const [file, text] of Object.entries(options.sbin ?? {})) {
        fs.writeFileSync(path.join(image, "usr/local/sbin", file), text, { mode: 0o755 });
    }
    for (const [file, f] of Object.entries(options.files ?? {})) {
        const p = path.join(optDir, file);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, f.content, { mode: f.mode ?? 0o644 });
    }

    let sshd: ChildProcess | undefined;
    let tornDown = false;
    const sshdLog = path.join(dir, "sshd.log");

    const teardown = (): void => {
        if (tornDown) {
            return;
        }
        tornDown = true;
        // Every process in the namespace (sshd, its sessions, servers started there) goes; the private mount
        // namespace goes with them.
        killNetns(ns);
        if (sshd?.pid) {
            try {
                process.kill(-sshd.pid, "SIGKILL");
            } catch {
                // already gone
            }
        }
        quiet("ip", ["netns", "del", ns]);
        // The overlay lives in the namespace's private mount table; if the kernel still holds it, unmount lazily.
        quiet("umount", ["-l", merged]);
        if (!process.env.CHARON_ENGINE_KEEP_TEST_HOST) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    };

    const sshArgv = (command: string) => [
        "ssh", "-i", keyPath, "-p", "22", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
        "-o", "ConnectTimeout=5", "-o", "ServerAliveInterval=30", `root@${address}`, command,
    ];
    const ssh = (command: string, input?: string, timeoutMs = 120_000) => {
        const [cmd, ...args] = sshArgv(command);
        const r = spawnSync(cmd, args, { encoding: "utf8", input, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
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
        name: options.name, address, gateway: lab.gateway, netns: ns, port: 22, user: "root",
        privateKey: fs.readFileSync(keyPath, "utf8"),
        privateKeyPath: keyPath,
        hostPublicKey: fs.readFileSync(path.join(image, "etc/ssh/charon_test_host_ed25519_key.pub"), "utf8").trim(),
        upperDir, ssh, sshArgv, writtenFiles, teardown,
        routeOnLink: (cidr) => run("ip", ["netns", "exec", ns, "ip", "route", "replace", cidr, "dev", "eth0", "scope", "link"]),
        putFile: (rel, content, mode = 0o644) => {
            const p = path.join(optDir, rel);
            fs.mkdirSync(path.dirname(p), { recursive: true });
            fs.writeFileSync(p, content, { mode });
            fs.chmodSync(p, mode);
        },
    };

    try {
        run("ip", ["netns", "add", ns]);
        const inner = `ch${labId}${hostId}`.slice(0, 15);
        plug(ns, inner);
        const inNs = (...args: string[]) => run("ip", ["netns", "exec", ns, ...args]);
        inNs("ip", "link", "set", inner, "name", "eth0");
        inNs("ip", "addr", "add", `${address}/24`, "dev", "eth0");
        inNs("ip", "link", "set", "eth0", "up");
        inNs("ip", "link", "set", "lo", "up");
        // Mounts happen inside a private mount namespace owned by sshd: when it dies they disappear with it.
        const binds = (options.binds ?? []).flatMap((b) => [`mkdir -p ${merged}${b}`, `mount --bind ${b} ${merged}${b}`]);
        const readOnlyBinds = (options.readOnlyBinds ?? []).flatMap((b) => [
            `mkdir -p ${merged}${b}`, `mount --bind ${b} ${merged}${b}`, `mount -o remount,bind,ro ${merged}${b}`,
        ]);
        const readOnly = Object.entries(options.readOnly ?? {}).flatMap(([sub, src]) => [
            `mkdir -p ${merged}/opt/charon-test/${sub}`,
            `mount --bind ${src} ${merged}/opt/charon-test/${sub}`,
            `mount -o remount,bind,ro ${merged}/opt/charon-test/${sub}`,
        ]);
        const script = [
            "set -e",
            `mount -t overlay overlay -o lowerdir=/,upperdir=${upperDir},workdir=${work} ${merged}`,
            `mount --bind ${image}/etc/ssh ${merged}/etc/ssh`,
            `mount --bind ${image}/usr/local/sbin ${merged}/usr/local/sbin`,
            `mkdir -p ${merged}/opt/charon-test`,
            `mount --bind ${optDir} ${merged}/opt/charon-test`,
            `mount --rbind /dev ${merged}/dev`,
            `mount -t proc proc ${merged}/proc`,
            `mount -t tmpfs tmpfs ${merged}/run`,
            `mount -t tmpfs tmpfs ${merged}/tmp`,
            ...readOnlyBinds,
            ...binds,
            ...readOnly,
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
    void labNs;
    return host;
}

/** One host on a lab of its own (the harness suite's shape); tearing the host down tears the lab down. */
export function startTestHost(options: { name?: string } = {}): TestHost {
    const lab = startLab(options.name ?? "host");
    const host = lab.addHost({ name: options.name ?? "host" });
    return { ...host, teardown: () => lab.teardown() };
}

// `tsx tools/engine/test-host.ts` starts a lab with two hosts, proves they work and reach each other, tears it down.
if (require.main === module) {
    const lab = startLab("selftest");
    try {
        const a = lab.addHost({ name: "a" });
        const b = lab.addHost({ name: "b" });
        console.log(`lab gateway ${lab.gateway}; hosts ${a.address}, ${b.address}`);
        console.log(a.ssh("id -un; hostname; ip -4 -o addr show | awk '{print $2, $4}'; echo written > /etc/charon-selftest").stdout);
        console.log(a.ssh(`timeout 3 bash -c "exec 3<>/dev/tcp/${b.address}/22" && echo "a reaches b on port 22"`).stdout);
        console.log("written on a:", a.writtenFiles().join(" "));
    } finally {
        lab.teardown();
    }
}
