// TEST charts for the engine tier, served from a loopback Helm repository (the shape charon:charts.source takes:
// an http:// URL whose index.yaml lists every pinned chart under its upstream name and pinned version).
//
// They are NOT the upstream charts (those need the internet): small charts of our own, written at test time, with
// the pinned names and versions read from components/versions.ts. Their templates create what the program relies
// on — the workloads (which kwok's nodes run and report Ready, so Helm's --wait and Pulumi's awaits behave as on a
// cluster), the Services and Secrets other layers address by name, and the CRDs the real charts install:
//   prometheus-operator-crds   ServiceMonitor, PodMonitor, Probe, PrometheusRule CRDs read from the
//                              github.com/prometheus-operator/prometheus-operator module (v0.87.x, the chart's
//                              operator line) in the Go module cache; the six large CRDs of the chart that the
//                              platform does not use are left out (together they exceed a Helm release's 1 MiB)
//   numaflow                   the v1.7.5 install manifests (controller, server, their ConfigMaps, Service,
//                              ServiceAccounts) and the InterStepBufferService and Pipeline CRDs, read from the
//                              github.com/numaproj/numaflow module in the Go module cache
//   the others                 hand-written templates that take the upstream charts' value keys the program sets
// Every object carries the label charon.io/test-chart=true.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { gpuCharts, monitoringCharts, numaflowChart } from "../../components/versions";
import { goModuleDir } from "./control-plane";

export const PROMETHEUS_OPERATOR_MODULE = { module: "github.com/prometheus-operator/prometheus-operator", version: "v0.87.1" };
export const NUMAFLOW_MODULE = { module: "github.com/numaproj/numaflow", version: "v1.7.5" };

interface PinnedChart { repo: string; chart: string; version: string }

/** Every chart the program can install, as versions.ts pins it (defined there once). */
export function pinnedCharts(): PinnedChart[] {
    return [...Object.values(monitoringCharts), numaflowChart, ...Object.values(gpuCharts)];
}

const TEST_LABELS = `charon.io/test-chart: "true"
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    app.kubernetes.io/instance: {{ .Release.Name }}`;

/** A Deployment (or DaemonSet) template whose pod carries the chart values' scheduling keys. */
function workload(o: {
    kind?: "Deployment" | "DaemonSet"; name: string; app: string; replicas?: string; image: string; port?: number;
    resources?: string; podExtra?: string; containerExtra?: string; when?: string;
}): string {
    const kind = o.kind ?? "Deployment";
    const body = `apiVersion: apps/v1
kind: ${kind}
metadata:
  name: ${o.name}
  labels:
    app.kubernetes.io/name: ${o.app}
    ${TEST_LABELS}
spec:
${kind === "Deployment" ? `  replicas: ${o.replicas ?? "1"}\n` : ""}  selector:
    matchLabels:
      app.kubernetes.io/name: ${o.app}
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${o.app}
        app.kubernetes.io/instance: {{ .Release.Name }}
        charon.io/test-chart: "true"
    spec:
${o.podExtra ?? ""}      containers:
        - name: ${o.app}
          image: ${o.image}
${o.port ? `          ports:\n            - name: http-metrics\n              containerPort: ${o.port}\n` : ""}${o.resources ? `          resources:\n            {{- toYaml ${o.resources} | nindent 12 }}\n` : ""}${o.containerExtra ?? ""}`;
    return o.when ? `{{- if ${o.when} }}\n${body}{{- end }}\n` : body;
}

function service(name: string, app: string, port: number, targetPort: number | string, extra = ""): string {
    return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  labels:
    app.kubernetes.io/name: ${app}
    ${TEST_LABELS}
spec:
${extra}  selector:
    app.kubernetes.io/name: ${app}
    app.kubernetes.io/instance: {{ .Release.Name }}
  ports:
    - name: http-metrics
      port: ${port}
      targetPort: ${targetPort}
`;
}

/** GPU charts: runtimeClassName, nodeSelector and affinity from the values, as NVIDIA's charts take them. */
const gpuPod = `      {{- with .Values.runtimeClassName }}
      runtimeClassName: {{ . }}
      {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
`;

type Templates = Record<string, string>;

function mimirTemplates(): Templates {
    const components = ["distributor", "ingester", "querier", "query_frontend", "query_scheduler", "store_gateway", "compactor"];
    const t: Templates = {
        // configStorageType Secret | ConfigMap, as the chart's mimir-config template; MinIO's root credentials.
        "config.yaml": `{{- $config := dict "structuredConfig" .Values.mimir.structuredConfig "minio" (dict "rootUser" .Values.minio.rootUser "rootPassword" .Values.minio.rootPassword) }}
apiVersion: v1
{{- if eq .Values.configStorageType "Secret" }}
kind: Secret
{{- else }}
kind: ConfigMap
{{- end }}
metadata:
  name: {{ .Release.Name }}-config
  labels:
    ${TEST_LABELS}
{{- if eq .Values.configStorageType "Secret" }}
stringData:
{{- else }}
data:
{{- end }}
  mimir.yaml: |
    {{- toYaml $config | nindent 4 }}
`,
        "minio.yaml": `{{- if .Values.minio.enabled }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-minio
  labels:
    ${TEST_LABELS}
stringData:
  rootUser: {{ .Values.minio.rootUser | quote }}
  rootPassword: {{ .Values.minio.rootPassword | quote }}
---
${workload({ name: "{{ .Release.Name }}-minio", app: "minio", image: "quay.io/minio/minio:test-chart", port: 9000, resources: ".Values.minio.resources" })}{{- end }}
`,
        "gateway.yaml": `${workload({ name: "{{ .Release.Name }}-gateway", app: "gateway", replicas: "{{ .Values.gateway.replicas }}", image: "nginxinc/nginx-unprivileged:test-chart", port: 8080 })}---
${service("{{ .Release.Name }}-gateway", "gateway", 80, "http-metrics")}`,
    };
    for (const c of components) {
        const dashed = c.replace(/_/g, "-");
        t[`${dashed}.yaml`] = workload({
            name: `{{ .Release.Name }}-${dashed}`, app: dashed, replicas: `{{ .Values.${c}.replicas }}`, image: "grafana/mimir:test-chart",
            port: 8080, resources: `.Values.${c}.resources`,
        });
    }
    return t;
}

const chartTemplates: Record<string, () => Templates> = {
    "mimir-distributed": mimirTemplates,
    alloy: () => ({
        "configmap.yaml": `{{- if .Values.alloy.configMap.create }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
  labels:
    ${TEST_LABELS}
data:
  config.alloy: |
    {{- .Values.alloy.configMap.content | nindent 4 }}
{{- end }}
`,
        "controller.yaml": `{{- if eq .Values.controller.type "deployment" }}
${workload({ name: "{{ .Release.Name }}", app: "alloy", replicas: "{{ .Values.controller.replicas }}", image: "grafana/alloy:test-chart", port: 12345, resources: ".Values.alloy.resources" })}{{- else }}
${workload({ kind: "DaemonSet", name: "{{ .Release.Name }}", app: "alloy", image: "grafana/alloy:test-chart", port: 12345, resources: ".Values.alloy.resources" })}{{- end }}
`,
    }),
    grafana: () => ({
        "configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
  labels:
    ${TEST_LABELS}
data:
  grafana.ini: |
    {{- toYaml (index .Values "grafana.ini") | nindent 4 }}
  {{- range $file, $doc := .Values.datasources }}
  {{ $file }}: |
    {{- toYaml $doc | nindent 4 }}
  {{- end }}
  {{- range $file, $doc := .Values.dashboardProviders }}
  {{ $file }}: |
    {{- toYaml $doc | nindent 4 }}
  {{- end }}
`,
        "deployment.yaml": workload({
            name: "{{ .Release.Name }}", app: "grafana", image: "grafana/grafana:test-chart", port: 3000, resources: ".Values.resources",
            containerExtra: `          env:
            - name: GF_SECURITY_ADMIN_USER
              valueFrom:
                secretKeyRef:
                  name: {{ .Values.admin.existingSecret }}
                  key: {{ .Values.admin.userKey }}
            - name: GF_SECURITY_ADMIN_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ .Values.admin.existingSecret }}
                  key: {{ .Values.admin.passwordKey }}
          volumeMounts:
            - name: config
              mountPath: /etc/grafana
            {{- range $provider, $cm := .Values.dashboardsConfigMaps }}
            - name: dashboards-{{ $provider }}
              mountPath: /var/lib/grafana/dashboards/{{ $provider }}
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ .Release.Name }}
        {{- range $provider, $cm := .Values.dashboardsConfigMaps }}
        - name: dashboards-{{ $provider }}
          configMap:
            name: {{ $cm }}
        {{- end }}
`,
        }),
        "service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/name: grafana
    ${TEST_LABELS}
spec:
  type: {{ .Values.service.type }}
  selector:
    app.kubernetes.io/name: grafana
    app.kubernetes.io/instance: {{ .Release.Name }}
  ports:
    - name: service
      port: 80
      targetPort: 3000
      {{- if and (eq .Values.service.type "NodePort") .Values.service.nodePort }}
      nodePort: {{ .Values.service.nodePort }}
      {{- end }}
`,
    }),
    "kube-state-metrics": () => ({
        "deployment.yaml": workload({ name: "{{ .Release.Name }}", app: "kube-state-metrics", image: "registry.k8s.io/kube-state-metrics/kube-state-metrics:test-chart", port: 8080, resources: ".Values.resources" }),
        "service.yaml": service("{{ .Release.Name }}", "kube-state-metrics", 8080, "http-metrics"),
    }),
    "prometheus-node-exporter": () => ({
        "daemonset.yaml": workload({ kind: "DaemonSet", name: "{{ .Values.fullnameOverride | default .Release.Name }}", app: "prometheus-node-exporter", image: "quay.io/prometheus/node-exporter:test-chart", port: 9100, resources: ".Values.resources" }),
        "service.yaml": service("{{ .Values.fullnameOverride | default .Release.Name }}", "prometheus-node-exporter", 9100, "http-metrics"),
    }),
    "nvidia-device-plugin": () => ({
        "daemonset.yaml": workload({ kind: "DaemonSet", name: "{{ .Release.Name }}", app: "nvidia-device-plugin", image: "nvcr.io/nvidia/k8s-device-plugin:test-chart", podExtra: gpuPod }),
    }),
    "dcgm-exporter": () => ({
        "daemonset.yaml": workload({
            kind: "DaemonSet", name: "{{ .Release.Name }}", app: "dcgm-exporter", image: "nvcr.io/nvidia/k8s/dcgm-exporter:test-chart", port: 9400, podExtra: gpuPod,
            containerExtra: "          args:\n            {{- toYaml .Values.arguments | nindent 12 }}\n",
        }),
        "service.yaml": service("{{ .Release.Name }}", "dcgm-exporter", 9400, "http-metrics"),
    }),
};

/** Templates read from a Go module in the module cache (never copied into the repository). */
function moduleTemplates(chart: string): { templates: Templates; from: string } | undefined {
    if (chart === "prometheus-operator-crds") {
        const dir = path.join(goModuleDir(PROMETHEUS_OPERATOR_MODULE.module, PROMETHEUS_OPERATOR_MODULE.version), "example", "prometheus-operator-crd");
        const files = ["servicemonitors", "podmonitors", "probes", "prometheusrules"].map((k) => `monitoring.coreos.com_${k}.yaml`);
        return {
            templates: Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")])),
            from: `${PROMETHEUS_OPERATOR_MODULE.module}@${PROMETHEUS_OPERATOR_MODULE.version}/example/prometheus-operator-crd (${files.length} CRDs)`,
        };
    }
    if (chart === "numaflow") {
        const base = path.join(goModuleDir(NUMAFLOW_MODULE.module, NUMAFLOW_MODULE.version), "config", "base");
        const files = [
            "crds/full/numaflow.numaproj.io_interstepbufferservices.yaml", "crds/full/numaflow.numaproj.io_pipelines.yaml",
            "controller-manager/numaflow-sa.yaml", "controller-manager/numaflow-controller-config.yaml",
            "controller-manager/controller-manager-deployment.yaml", "shared-config/numaflow-cmd-params-config.yaml",
            "numaflow-server/numaflow-server-sa.yaml", "numaflow-server/numaflow-server-secrets.yaml",
            "numaflow-server/numaflow-server-metrics-proxy-config.yaml", "numaflow-server/numaflow-server-rbac-config.yaml",
            "numaflow-server/numaflow-server-local-user-config.yaml", "numaflow-server/numaflow-server-service.yaml",
            "numaflow-server/numaflow-server-deployment.yaml",
        ];
        return {
            templates: Object.fromEntries(files.map((f) => [f.replace(/\//g, "_"), labelled(fs.readFileSync(path.join(base, f), "utf8"))])),
            from: `${NUMAFLOW_MODULE.module}@${NUMAFLOW_MODULE.version}/config/base (install manifests, ISB and Pipeline CRDs)`,
        };
    }
    return undefined;
}

/** Adds the test-chart label to each document's metadata (upstream manifests have plain `metadata:` blocks). */
function labelled(text: string): string {
    return text.split(/^---\s*$/m).map((doc) => {
        if (!/^metadata:\s*$/m.test(doc)) {
            return doc;
        }
        if (/^metadata:\s*\n(\s+)labels:\s*$/m.test(doc)) {
            return doc.replace(/^metadata:\s*\n(\s+)labels:\s*$/m, (_m, ind: string) => `metadata:\n${ind}labels:\n${ind}${ind}charon.io/test-chart: "true"`);
        }
        return doc.replace(/^metadata:\s*$/m, 'metadata:\n  labels:\n    charon.io/test-chart: "true"');
    }).join("---\n");
}

export interface TestChart { chart: string; version: string; upstream: string; archive: string; from: string }

/** Writes every test chart as `<chart>-<version>.tgz` plus index.yaml into `dir`. */
export function buildTestCharts(dir: string): TestChart[] {
    fs.mkdirSync(dir, { recursive: true });
    const src = fs.mkdtempSync(path.join(dir, ".src-"));
    const out: TestChart[] = [];
    const created = new Date().toISOString();
    for (const c of pinnedCharts()) {
        const fromModule = moduleTemplates(c.chart);
        const own = chartTemplates[c.chart];
        if (!fromModule && !own) {
            throw new Error(`no test chart for ${c.chart}: add one to tools/engine/test-charts.ts`);
        }
        const templates = fromModule?.templates ?? own!();
        const root = path.join(src, c.chart);
        fs.mkdirSync(path.join(root, "templates"), { recursive: true });
        fs.writeFileSync(path.join(root, "Chart.yaml"), [
            "apiVersion: v2",
            `name: ${c.chart}`,
            `version: ${c.version}`,
            `description: "charon engine-tier TEST chart standing in for ${c.chart} ${c.version} from ${c.repo}: NOT the upstream chart"`,
            "type: application",
            "",
        ].join("\n"));
        fs.writeFileSync(path.join(root, "values.yaml"), "# Test chart: every value comes from the release (charon's program).\n{}\n");
        for (const [file, text] of Object.entries(templates)) {
            fs.writeFileSync(path.join(root, "templates", file), text);
        }
        const archive = path.join(dir, `${c.chart}-${c.version}.tgz`);
        execFileSync("tar", ["-czf", archive, "-C", src, c.chart]);
        out.push({ chart: c.chart, version: c.version, upstream: c.repo, archive, from: fromModule?.from ?? "tools/engine/test-charts.ts" });
    }
    fs.rmSync(src, { recursive: true, force: true });
    const entries = out.map((t) => {
        const digest = createHash("sha256").update(fs.readFileSync(t.archive)).digest("hex");
        return `  ${t.chart}:\n  - apiVersion: v2\n    name: ${t.chart}\n    version: ${t.version}\n    created: "${created}"\n` +
            `    description: "charon engine-tier TEST chart (not upstream)"\n    digest: ${digest}\n    urls:\n    - ${path.basename(t.archive)}\n`;
    });
    fs.writeFileSync(path.join(dir, "index.yaml"), `apiVersion: v1\nentries:\n${entries.join("")}generated: "${created}"\n`);
    return out;
}

export interface ChartMirror { url: string; stop(): void }

/**
 * Serves `dir` over HTTP on a free loopback port, in `netns` when given (where the CLI runs: a Helm repository on
 * the machine's own loopback), with Python's static file server.
 */
export function serveCharts(dir: string, netns?: string): Promise<ChartMirror> {
    const argv = ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir];
    const child = netns ? spawn("ip", ["netns", "exec", netns, ...argv], { stdio: ["ignore", "pipe", "pipe"] })
        : spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    return new Promise((resolve, reject) => {
        let seen = "";
        const timer = setTimeout(() => reject(new Error(`chart mirror did not start: ${seen}`)), 15_000);
        const onData = (b: Buffer) => {
            seen += b.toString();
            const m = /port (\d+)/.exec(seen);
            if (m) {
                clearTimeout(timer);
                child.stdout!.off("data", onData);
                child.stdout!.resume();
                child.stderr!.resume();
                resolve({ url: `http://127.0.0.1:${m[1]}`, stop: () => child.kill("SIGKILL") });
            }
        };
        child.stdout!.on("data", onData);
        child.stderr!.on("data", (b: Buffer) => { seen += b.toString(); });
        child.on("exit", (code) => reject(new Error(`chart mirror exited ${code}: ${seen}`)));
    });
}
