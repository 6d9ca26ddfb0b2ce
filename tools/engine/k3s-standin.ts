// The k3s STAND-IN the SSH test hosts install through charon's air-gapped k3s path (the real k3s binary cannot be
// fetched here, and a real k3s would need a kernel, containerd and cgroups a namespace does not give). It is fed
// to the program as charon:k3s.airgap.binary and .installScript, so install-k3s.sh places and runs it exactly as
// it would place a real k3s. What it does instead of running Kubernetes:
//
//   k3s --version          reports the stack's k3s version (install-k3s.sh checks the staged binary's version)
//   k3s server             reads /etc/rancher/k3s/config.yaml (+ config.yaml.d/*) like k3s does, refuses settings
//                          the tier's control plane was not started with (cluster/service CIDR), writes the token
//                          files and /etc/rancher/k3s/k3s.yaml: a kubeconfig for the tier's REAL control plane,
//                          server https://127.0.0.1:6443 like a real k3s's; applies what k3s's packaged manifests
//                          would create (RuntimeClass nvidia, StorageClass local-path); registers its Node
//   k3s agent              joins the server named in config.yaml: refuses a token that is not the server's (like a
//                          real agent), then registers its Node
//   k3s kubectl ARGS…      the real kubectl v1.34.4 with /etc/rancher/k3s/k3s.yaml (like k3s's embedded kubectl)
//
// Nodes are registered as a kubelet would (name, labels from node-label, addresses, capacity, nodeInfo) plus the
// kwok annotation. The capacity is the machine the test host plays (machine.json: CPUs and memory of a typical
// workstation or server, not the CI machine's; the tier prints it), plus
// kwok v0.8.0 then plays their kubelet (Ready, heartbeats, pods running/completing). A GPU host's
// Node gets nvidia.com/gpu capacity for each GPU `nvidia-smi --list-gpus` lists (on a real node the NVIDIA device
// plugin advertises it). The installer stand-in writes the unit and uninstall script like k3s's install.sh in
// INSTALL_K3S_SKIP_DOWNLOAD mode; the server's uninstall script also deletes what its server start created (a real
// uninstall deletes the whole datastore with it).
import { CLUSTER_CIDR, KWOK_ANNOTATION, SERVICE_CIDR } from "./control-plane";

/** Where the tier puts the stand-in's inputs on every test host (a read-only bind, see test-host.ts). */
export const STANDIN_DIR = "/opt/charon-test";

export interface StandinFacts {
    /** The k3s version the stack pins (components/versions.ts k3sVersion). */
    k3sVersion: string;
    /** The control plane's Kubernetes version (what `kubectl version` reports). */
    kubernetesVersion: string;
}

/** Files of /opt/charon-test the stand-in reads: kubeconfigs and the control plane's facts. */
/** The machine a test host plays: what its k3s stand-in registers as the Node's capacity. */
export interface Machine { cpus: number; memory: string }
export const DEFAULT_MACHINE: Machine = { cpus: 8, memory: "32Gi" };

export function standinFiles(adminKubeconfig: string, nodeKubeconfig: string, facts: StandinFacts, machine: Machine = DEFAULT_MACHINE): Record<string, { content: string; mode?: number }> {
    return {
        "k3s/machine.json": { content: JSON.stringify(machine) + "\n" },
        "k3s/admin.kubeconfig": { content: adminKubeconfig, mode: 0o600 },
        "k3s/node.kubeconfig": { content: nodeKubeconfig, mode: 0o600 },
        "k3s/control-plane.json": {
            content: JSON.stringify({
                clusterCidr: CLUSTER_CIDR, serviceCidr: SERVICE_CIDR, kubernetesVersion: facts.kubernetesVersion,
                kwokAnnotation: KWOK_ANNOTATION,
            }, null, 2) + "\n",
        },
    };
}

export function standinK3s(facts: StandinFacts): string {
    return `#!/usr/bin/env python3
# k3s STAND-IN of charon's engine tier (tools/engine/k3s-standin.ts): see there for what it does instead of k3s.
import hashlib, json, os, re, subprocess, sys, tempfile

VERSION = ${JSON.stringify(facts.k3sVersion)}
DIR = ${JSON.stringify(STANDIN_DIR)}
KUBECTL = DIR + "/bin/kubectl"
CONFIG = "/etc/rancher/k3s/config.yaml"
KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"
LOG = "/var/log/charon-standin-k3s.log"
TOKEN_SECRET = "charon-standin-k3s-token"

def log(msg):
    with open(LOG, "a") as f:
        f.write("k3s-standin: " + msg + "\\n")
    print("k3s-standin: " + msg, file=sys.stderr)

def die(msg):
    log("error: " + msg)
    sys.exit(1)

def parse(path):
    """The YAML subset charon renders (components/cluster/k3s-config.ts): 'key: scalar' and 'key:' + '  - item'
    lines, JSON-quoted strings, '#' comments; 'key+:' appends. Anything else is refused, loudly."""
    out, key = {}, None
    for n, raw in enumerate(open(path).read().splitlines(), 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r'^  - (.*)$', line)
        if m and key is not None:
            out.setdefault(key, []).append(scalar(m.group(1), path, n))
            continue
        m = re.match(r'^([a-z0-9][a-z0-9-]*\\+?):(?: (.*))?$', line)
        if not m:
            die("%s:%d: the stand-in cannot read %r (real k3s reads full YAML; charon renders a subset)" % (path, n, line))
        key = m.group(1)
        if m.group(2) is not None:
            out[key] = scalar(m.group(2), path, n)
            key = None
        else:
            out[key] = []
    return out

def scalar(text, path, n):
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    if text.startswith('"'):
        return json.loads(text)
    if re.match(r'^[A-Za-z0-9_./:=,+-]+$', text):
        return text
    die("%s:%d: unsupported scalar %r" % (path, n, text))

def config():
    if not os.path.exists(CONFIG):
        die(CONFIG + " is missing")
    cfg = parse(CONFIG)
    d = CONFIG + ".d"
    if os.path.isdir(d):
        for f in sorted(os.listdir(d)):
            if f.endswith(".yaml") or f.endswith(".yml"):
                for k, v in parse(os.path.join(d, f)).items():
                    if k.endswith("+"):
                        base = k[:-1]
                        cfg[base] = list(cfg.get(base, [])) + (v if isinstance(v, list) else [v])
                    else:
                        cfg[k] = v
    return cfg

def as_list(v):
    return [] if v is None else (v if isinstance(v, list) else [v])

def token(cfg):
    if "token" in cfg:
        return str(cfg["token"]).strip()
    f = cfg.get("token-file")
    if not f or not os.path.exists(f):
        die("no token: token-file %r is missing" % f)
    t = open(f).read().strip()
    if not t:
        die("token-file %s is empty" % f)
    return t

def kubectl(kubeconfig, *args, stdin=None):
    # The stand-in's own calls (a real k3s talks to its API in-process) leave no ~/.kube cache behind.
    with tempfile.TemporaryDirectory() as cache:
        r = subprocess.run([KUBECTL, "--kubeconfig", kubeconfig, "--request-timeout=20s", "--cache-dir", cache, *args], input=stdin,
                           capture_output=True, text=True)
    if r.returncode != 0:
        die("kubectl %s failed: %s" % (" ".join(args[:3]), (r.stderr or r.stdout).strip()))
    return r.stdout

def write(path, text, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)

def facts():
    return json.load(open(DIR + "/k3s/control-plane.json"))

def host_address():
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", "eth0"], capture_output=True, text=True).stdout
    m = re.search(r"inet ([0-9.]+)/", out)
    return m.group(1) if m else "127.0.0.1"

def gpu_count():
    try:
        out = subprocess.run(["nvidia-smi", "--list-gpus"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return 0
    return len([l for l in out.splitlines() if re.match(r"^GPU [0-9]", l)])

def register(kubeconfig, cfg, role):
    f = facts()
    name = cfg.get("node-name") or os.uname().nodename
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64", "node.kubernetes.io/instance-type": "k3s"}
    if role == "server":
        labels["node-role.kubernetes.io/control-plane"] = "true"
        labels["node-role.kubernetes.io/master"] = "true"
    for entry in as_list(cfg.get("node-label")):
        k, _, v = str(entry).partition("=")
        labels[k] = v
    taints = []
    for entry in as_list(cfg.get("node-taint")):
        kv, _, effect = str(entry).partition(":")
        k, _, v = kv.partition("=")
        taints.append({"key": k, "value": v, "effect": effect})
    address = host_address()
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels,
                         "annotations": {f["kwokAnnotation"]["key"]: f["kwokAnnotation"]["value"],
                                         "charon.io/k3s-standin": "registered by the engine tier's k3s stand-in"}},
            "spec": {"taints": taints} if taints else {}}
    kubectl(kubeconfig, "apply", "--server-side", "--force-conflicts", "--field-manager=k3s-standin", "-f", "-", stdin=json.dumps(node))
    machine = json.load(open(DIR + "/k3s/machine.json"))
    capacity = {"cpu": str(machine["cpus"]), "memory": machine["memory"], "pods": "110", "ephemeral-storage": "100Gi"}
    gpus = gpu_count()
    if gpus > 0:
        capacity["nvidia.com/gpu"] = str(gpus)
    status = {"status": {"capacity": capacity, "allocatable": capacity,
                         "addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": name}],
                         "nodeInfo": {"kubeletVersion": VERSION, "kubeProxyVersion": VERSION, "containerRuntimeVersion": "containerd://charon-standin",
                                      "operatingSystem": "linux", "architecture": "amd64", "osImage": "charon engine-tier test host",
                                      "kernelVersion": os.uname().release, "machineID": "", "systemUUID": "", "bootID": ""}}}
    kubectl(kubeconfig, "patch", "node", name, "--subresource=status", "--type=merge", "-p", json.dumps(status))
    log("registered node %s (%s, %s, labels %s, capacity %s)" % (name, role, address, ",".join(sorted(labels)), json.dumps(capacity)))

def packaged(kubeconfig):
    # What k3s's packaged manifests create that the platform relies on.
    docs = [
        {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "nvidia", "labels": {"charon.io/k3s-standin": "packaged"}}, "handler": "nvidia"},
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local-path", "labels": {"charon.io/k3s-standin": "packaged"},
         "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
         "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer", "reclaimPolicy": "Delete"},
    ]
    for d in docs:
        kubectl(kubeconfig, "apply", "--server-side", "--force-conflicts", "--field-manager=k3s-standin", "-f", "-", stdin=json.dumps(d))

def server():
    cfg = config()
    f = facts()
    for key, want in (("cluster-cidr", f["clusterCidr"]), ("service-cidr", f["serviceCidr"])):
        got = cfg.get(key, want)
        if got != want:
            die("%s is %s, but the tier's control plane runs with %s (the stand-in cannot change a running control plane)" % (key, got, want))
    if cfg.get("server"):
        die("joining servers (server: %s) are not supported by the stand-in" % cfg["server"])
    t = token(cfg)
    write("/var/lib/rancher/k3s/server/token", t + "\\n", 0o600)
    write("/var/lib/rancher/k3s/server/node-token", "K10standin::server:" + t + "\\n", 0o600)
    admin = open(DIR + "/k3s/admin.kubeconfig").read()
    mode = int(str(cfg.get("write-kubeconfig-mode", "0600")), 8)
    write(KUBECONFIG, admin, mode)
    packaged(KUBECONFIG)
    digest = hashlib.sha256(t.encode()).hexdigest()
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": TOKEN_SECRET, "namespace": "kube-system"},
              "stringData": {"sha256": digest}}
    kubectl(KUBECONFIG, "apply", "--server-side", "--force-conflicts", "--field-manager=k3s-standin", "-f", "-", stdin=json.dumps(secret))
    register(KUBECONFIG, cfg, "server")
    log("server started (stand-in): wrote %s for the control plane at https://127.0.0.1:6443" % KUBECONFIG)

def agent():
    cfg = config()
    url = cfg.get("server")
    if not url:
        die("agent without server: in %s" % CONFIG)
    node_cfg = json.loads(open(DIR + "/k3s/node.kubeconfig").read())
    node_cfg["clusters"][0]["cluster"]["server"] = url
    fd, kc = tempfile.mkstemp()
    with os.fdopen(fd, "w") as fh:
        json.dump(node_cfg, fh)
    try:
        want = kubectl(kc, "get", "secret", "-n", "kube-system", TOKEN_SECRET, "-o", "jsonpath={.data.sha256}")
        import base64
        want = base64.b64decode(want).decode()
        if hashlib.sha256(token(cfg).encode()).hexdigest() != want:
            die("the server at %s rejected this agent's token (it is not the server's token)" % url)
        register(kc, cfg, "agent")
    finally:
        os.unlink(kc)
    log("agent joined %s (stand-in)" % url)

def main():
    args = sys.argv[1:]
    with open(LOG, "a") as f:
        f.write("k3s " + " ".join(args) + "\\n")
    if not args or args[0] in ("--version", "-v", "version"):
        print("k3s version %s (charon engine-tier stand-in)" % VERSION)
        print("go version go1.26")
        return
    cmd = args[0]
    if cmd == "server":
        server()
    elif cmd == "agent":
        agent()
    elif cmd == "kubectl":
        if not os.path.exists(KUBECONFIG):
            die("%s does not exist (the server has not started)" % KUBECONFIG)
        os.execv(KUBECTL, [KUBECTL, "--kubeconfig", KUBECONFIG, *args[1:]])
    else:
        die("the stand-in does not implement 'k3s %s'" % cmd)

main()
`;
}

/**
 * Stand-in for k3s's install.sh in its air-gapped mode (INSTALL_K3S_SKIP_DOWNLOAD=true): writes the service unit
 * and the uninstall script, then enables and restarts the service, like the real installer does.
 */
export function standinInstaller(): string {
    return `#!/bin/sh
# Stand-in for k3s's install.sh (charon engine tier, tools/engine/k3s-standin.ts), air-gapped mode only.
set -eu
[ "\${INSTALL_K3S_SKIP_DOWNLOAD:-}" = true ] || { echo "stand-in installer supports only INSTALL_K3S_SKIP_DOWNLOAD=true" >&2; exit 1; }
role=\${INSTALL_K3S_EXEC:-server}
case "$role" in agent*) svc=k3s-agent; cmd=agent; uninstall=k3s-agent-uninstall.sh ;; *) svc=k3s; cmd=server; uninstall=k3s-uninstall.sh ;; esac
[ -x /usr/local/bin/k3s ] || { echo "/usr/local/bin/k3s missing" >&2; exit 1; }
mkdir -p /etc/systemd/system
cat > /etc/systemd/system/$svc.service <<EOF
[Unit]
Description=k3s (charon engine-tier stand-in)
[Service]
ExecStart=/usr/local/bin/k3s $cmd
EOF
ln -sf k3s /usr/local/bin/kubectl
cat > /usr/local/bin/$uninstall <<'EOF'
#!/bin/sh
# Stand-in uninstall script (charon engine tier).
set -u
EOF
if [ "$svc" = k3s ]; then
    cat >> /usr/local/bin/$uninstall <<'EOF'
# A real uninstall deletes the datastore, and every object with it; the tier's control plane keeps running, so
# the stand-in deletes what its server start created.
if [ -f /etc/rancher/k3s/k3s.yaml ]; then
    KUBECACHEDIR=$(mktemp -d); export KUBECACHEDIR
    node=$(sed -n 's/^node-name: "\\(.*\\)"$/\\1/p' /etc/rancher/k3s/config.yaml 2>/dev/null)
    [ -n "$node" ] && /usr/local/bin/k3s kubectl delete node "$node" --ignore-not-found >&2 || true
    /usr/local/bin/k3s kubectl delete runtimeclass,storageclass -l charon.io/k3s-standin=packaged --ignore-not-found >&2 || true
    /usr/local/bin/k3s kubectl -n kube-system delete secret charon-standin-k3s-token --ignore-not-found >&2 || true
    rm -rf "$KUBECACHEDIR"
fi
EOF
fi
cat >> /usr/local/bin/$uninstall <<EOF
systemctl disable --now $svc || true
rm -f /etc/systemd/system/$svc.service /usr/local/bin/k3s /usr/local/bin/kubectl /usr/local/bin/$uninstall
rm -rf /etc/rancher/k3s /var/lib/rancher/k3s
EOF
chmod 0755 /usr/local/bin/$uninstall
systemctl daemon-reload
systemctl enable $svc
systemctl restart $svc
echo "[stand-in installer] installed $svc"
`;
}

/** nvidia-smi for a GPU test host: lists `count` GPUs (the host's driver is a stand-in). */
export function nvidiaSmiStandin(count: number): string {
    const lines = Array.from({ length: count }, (_, i) => `GPU ${i}: NVIDIA A100-SXM4-40GB (UUID: GPU-00000000-0000-0000-0000-00000000000${i}) (charon stand-in)`);
    return `#!/bin/sh
# nvidia-smi STAND-IN of charon's engine tier: this test host plays a machine with ${count} NVIDIA GPU(s).
case "$*" in
    *--list-gpus*|*-L*) cat <<'EOF'
${lines.join("\n")}
EOF
    ;;
    *) echo "charon engine-tier nvidia-smi stand-in: only --list-gpus is implemented" >&2; exit 0 ;;
esac
`;
}
