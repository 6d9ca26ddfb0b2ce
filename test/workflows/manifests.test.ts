/**
 * charon:workflows.manifests: a stack's own manifests, validated before any resource (files, lines, kinds,
 * namespaces, Numaflow's CRD from the chart, pinned URLs) and deployed object by object into the workflow namespace.
 */
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { type ChildProcess, spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { SettingsError, resolveStack } from "../../stacks";
import { policies } from "../../policies/rules";
import { chartDirectory } from "../helpers/chart-directory";
import { type PackConfig, runPolicies } from "../policies/harness";
import { analyzeProgram } from "../policies/program";
import { ProgramFailure, runProgram, type ProgramRun } from "../helpers/pulumi-mocks";

const pipelineYaml = `# my own Numaflow pipeline
apiVersion: numaflow.numaproj.io/v1alpha1
kind: Pipeline
metadata:
  name: simple
spec:
  vertices:
    - name: in
      source:
        generator:
          rpu: 5
          duration: 1s
    - name: cat
      udf:
        container:
          image: docker.io/example/cat:1.0
    - name: out
      sink:
        log: {}
  edges:
    - from: in
      to: cat
    - from: cat
      to: out
`;
const deploymentYaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: tools
spec:
  selector: { matchLabels: { app: tools } }
  template:
    metadata: { labels: { app: tools } }
    spec:
      containers:
        - name: tools
          image: docker.io/library/busybox:1.37.0
`;
const configMapYaml = `apiVersion: v1
kind: ConfigMap
metadata:
  name: tools-config
data:
  mode: fast
`;

describe("workflows: your own manifests (charon:workflows.manifests)", function () {
    this.timeout(120_000);
    let work: string;
    let charts: { dir: string; remove: () => void };
    const write = (rel: string, text: string) => {
        const file = path.join(work, rel);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, text);
        return file;
    };
    const problemsOf = (manifests: unknown[]): string[] => {
        try {
            resolveStack({ charts: { source: charts.dir }, workflows: { manifests } }, { projectDir: work });
        } catch (err) {
            assert.ok(err instanceof SettingsError, String(err));
            return err.problems.map((p) => p.message);
        }
        assert.fail("accepted");
    };

    before(() => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "manifests-"));
        charts = chartDirectory();
        write("pipeline.yaml", pipelineYaml);
        write("tools/deployment.yaml", deploymentYaml);
        write("tools/configmap.yml", configMapYaml);
        write("tools/README.md", "not a manifest");
    });
    after(() => {
        fs.rmSync(work, { recursive: true, force: true });
        charts.remove();
    });

    describe("a local Pipeline file and a directory with a Deployment and a ConfigMap", () => {
        let run: ProgramRun;
        before(async () => {
            run = await runProgram({
                charts: { source: charts.dir },
                workflows: { manifests: [{ name: "mine", path: path.join(work, "pipeline.yaml") }, { name: "tools", path: path.join(work, "tools") }] },
            });
        });

        it("registers exactly those objects, in the workflow namespace, under one component", () => {
            const component = run.get("charon:workflows:WorkflowManifests", "workflow");
            const own = run.resources.filter((r) => r.parent === component.urn);
            assert.deepEqual(own.map((r) => `${r.type} ${r.name} ${r.inputs.metadata.namespace}`).sort(), [
                "kubernetes:apps/v1:Deployment workflow-tools-deployment-tools default",
                "kubernetes:core/v1:ConfigMap workflow-tools-configmap-tools-config default",
                "kubernetes:numaflow.numaproj.io/v1alpha1:Pipeline workflow-mine-pipeline-simple default",
            ].sort());
            const pipeline = run.named("workflow-mine-pipeline-simple");
            assert.deepEqual(pipeline.inputs.spec.edges, [{ from: "in", to: "cat" }, { from: "cat", to: "out" }]);
            assert.deepEqual(run.named("workflow-tools-configmap-tools-config").inputs.data, { mode: "fast" });
        });

        it("creates them after the platform they run on: the Numaflow controller and ISB, the monitors", () => {
            const pipeline = run.named("workflow-mine-pipeline-simple");
            for (const needed of [run.named("numaflow-controller"), run.named("numaflow-isb"), run.named("monitoring-crds"), run.named("monitoring-workload-metrics")]) {
                assert.ok(pipeline.dependencies.includes(needed.urn), `waits for ${needed.name}`);
            }
        });

        it("an entry with enabled: false registers none of its objects (the next up removes exactly them)", async () => {
            const again = await runProgram({
                charts: { source: charts.dir },
                workflows: { manifests: [{ name: "mine", path: path.join(work, "pipeline.yaml"), enabled: false }, { name: "tools", path: path.join(work, "tools") }] },
            });
            assert.deepEqual(again.resources.filter((r) => r.name.startsWith("workflow-")).map((r) => r.name).sort(),
                ["workflow-tools-configmap-tools-config", "workflow-tools-deployment-tools"]);
        });
    });

    it("the policy pack refuses an image without a pinned tag in your own manifests", async () => {
        const file = write("unpinned/deployment.yaml", deploymentYaml.replace("busybox:1.37.0", "busybox"));
        const analyzed = await analyzeProgram({ charts: { source: charts.dir }, workflows: { manifests: [{ name: "unpinned", path: path.dirname(file) }] } });
        const pack: PackConfig = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "policies", "config", "default.json"), "utf8"));
        const found = (await runPolicies(policies, analyzed.resources, pack)).filter((v) => v.level === "mandatory");
        const deployment = analyzed.run.named("workflow-unpinned-deployment-tools");
        assert.deepEqual(found.map((v) => [v.policy, v.urn]), [["images-pinned", deployment.urn]]);
        assert.match(found[0].message, /docker\.io\/library\/busybox/);
    });

    describe("refused before any resource, each with its exact message", () => {
        it("YAML that does not parse, with file and line", () => {
            const file = write("broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: [\n");
            assert.deepEqual(problemsOf([{ name: "broken", path: file }]), [
                `charon:workflows.manifests[0]: ${path.relative(work, file)}:5: not YAML: bad indentation of a mapping entry`,
            ]);
        });

        it("kinds a workflow may not declare, and objects in namespaces the stack does not own", () => {
            const file = write("wrong.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lab\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: kube-system\n");
            const problems = problemsOf([{ name: "wrong", path: file }]);
            assert.equal(problems.length, 2);
            assert.match(problems[0], /^charon:workflows\.manifests\[0\]: Namespace lab \(wrong\.yaml:1\): v1 Namespace is not a kind a workflow may declare; allowed: v1 ConfigMap, /);
            assert.equal(problems[1], `charon:workflows.manifests[0]: ConfigMap c (wrong.yaml:6): namespace "kube-system" is not the stack's workflow namespace "default"; remove metadata.namespace or set it to default`);
        });

        it("a Pipeline that Numaflow's CRD (from the chart the platform installs) does not accept", () => {
            const file = write("bad-pipeline.yaml", pipelineYaml.replace("rpu: 5", "rpu: 5\n          burst: lots"));
            assert.deepEqual(problemsOf([{ name: "bad", path: file }]), [
                "charon:workflows.manifests[0]: Pipeline simple (bad-pipeline.yaml:1) does not match Numaflow's Pipeline schema: spec.vertices[0].source.generator: must NOT have additional properties (burst)",
            ]);
        });

        it("a path that does not exist, entries without or with both path and url, a URL without sha256, a name used twice", () => {
            assert.deepEqual(problemsOf([
                { name: "gone", path: "nowhere/pipeline.yaml" },
                { name: "none" },
                { name: "both", path: "a.yaml", url: "https://example.org/a.yaml", sha256: "a".repeat(64) },
                { name: "gone", url: "https://example.org/b.yaml" },
            ]), [
                "charon:workflows.manifests[1]: entry \"none\" needs exactly one of path (a file or directory) and url",
                "charon:workflows.manifests[2]: entry \"both\" needs exactly one of path (a file or directory) and url",
                "charon:workflows.manifests[3].name: \"gone\" is already used by workflows.manifests[0]; entry names must be unique",
                "charon:workflows.manifests[3].sha256: is required for the remote manifest https://example.org/b.yaml: pin it with its sha256 (`curl -sL https://example.org/b.yaml | sha256sum`)",
            ]);
            assert.deepEqual(problemsOf([{ name: "gone", path: "nowhere/pipeline.yaml" }]), [
                `charon:workflows.manifests[0]: "nowhere/pipeline.yaml" does not exist (relative paths are read from ${work})`,
            ]);
        });

        it("the program stops with them before registering anything", async () => {
            await assert.rejects(runProgram({ charts: { source: charts.dir }, workflows: { manifests: [{ name: "gone", path: "/nonexistent/x.yaml" }] } }),
                (failure: ProgramFailure) => {
                    assert.match(failure.message, /charon:workflows\.manifests\[0\]: "\/nonexistent\/x\.yaml" does not exist/);
                    assert.deepEqual(failure.registered, []);
                    return true;
                });
        });
    });

    describe("a remote manifest, pinned by sha256, from a loopback server", () => {
        // In its own process: the program reads manifests synchronously, so a server in this process could not answer.
        let server: ChildProcess;
        let base: string;
        before(async () => {
            const script = `
                const body = ${JSON.stringify(configMapYaml)};
                const s = require("node:http").createServer((req, res) => {
                    if (req.url === "/configmap.yaml") { res.end(body); } else { res.statusCode = 404; res.end("not here"); }
                });
                s.listen(0, "127.0.0.1", () => console.log(s.address().port));`;
            server = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
            const port = await new Promise<string>((resolve) => server.stdout!.once("data", (d) => resolve(String(d).trim())));
            base = `http://127.0.0.1:${port}`;
        });
        after(() => server.kill());

        it("is fetched and deployed when its sha256 matches", () => {
            const sha256 = createHash("sha256").update(configMapYaml).digest("hex");
            const stack = resolveStack({ workflows: { manifests: [{ name: "remote", url: `${base}/configmap.yaml`, sha256 }] } }, { projectDir: work });
            assert.deepEqual(stack.manifests.map((m) => [m.entry, m.source, m.object.kind, m.object.metadata]), [
                ["remote", `${base}/configmap.yaml:1`, "ConfigMap", { name: "tools-config", namespace: "default" }],
            ]);
        });

        it("is refused, whole, when its sha256 differs, and a missing document is named", () => {
            const wrong = "0".repeat(64);
            const actual = createHash("sha256").update(configMapYaml).digest("hex");
            assert.deepEqual(problemsOf([{ name: "remote", url: `${base}/configmap.yaml`, sha256: wrong }]), [
                `charon:workflows.manifests[0]: ${base}/configmap.yaml has sha256 ${actual}, not the pinned ${wrong}; nothing of it is deployed (check the document, then update sha256)`,
            ]);
            assert.deepEqual(problemsOf([{ name: "remote", url: `${base}/missing.yaml`, sha256: wrong }]), [
                `charon:workflows.manifests[0]: could not download ${base}/missing.yaml: HTTP 404 Not Found`,
            ]);
        });
    });
});
