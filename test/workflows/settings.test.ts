import * as assert from "node:assert/strict";
import { SettingsError, resolveSettings } from "../../stacks/load";
import { isPinnedImage } from "../../model/formats/names";
import { workflowSettingsProblems } from "../../workflows/settings";

const checkWorkflowSettings = (s: Parameters<typeof workflowSettingsProblems>[0]) => workflowSettingsProblems(s, "charon:");

/** The workflows layer's semantic problems, as resolveSettings reports them (it runs checkWorkflowSettings). */
function check(raw: Record<string, unknown>): string[] {
    return shapeErrors(raw);
}

function shapeErrors(raw: Record<string, unknown>): string[] {
    try {
        resolveSettings(raw);
    } catch (e) {
        if (e instanceof SettingsError) {
            return e.problems.map((p) => p.message);
        }
        throw e;
    }
    return [];
}

describe("stacks: workflows, experiments, harvest and controllers settings", () => {
    it("defaults: APS off, fixed pipeline profile, pinned images, no experiments, parquet harvest of metrics.txt, no actimanager", () => {
        const s = resolveSettings({});
        assert.deepEqual(s.workflows.aps, {
            enabled: false, deploy: "pipeline", profile: "fixed", channel: "pvapy:image", mirrorChannel: "ad:image",
            queueSize: 1000, batchSize: 8, cpu: "1000m", memory: "4Gi", namespace: "default",
            images: {
                udsource: "docker.io/gemblerz/pvapy-udsource:0.0.1", udf: "docker.io/gemblerz/ptychonn-udf:0.0.2",
                pvapy: "docker.io/akhileshraj/charon:0.0.1", consumer: "local/ptychonn:cuda126",
            },
            // no per-vertex overrides: the profile decides
            vertices: {},
        });
        assert.deepEqual(s.experiments, []);
        assert.deepEqual(s.harvest, { enabled: true, queriesFile: "workflows/aps/metrics.txt", format: "parquet", mode: "auto", marginSeconds: 30, resultsDir: "results" });
        assert.deepEqual(s.controllers.actimanager, { enabled: false, cgroupDriver: "systemd", reconcilePeriod: "15s", verbosity: 3, schedulerPolicy: "MaximumUtilization" });
        assert.deepEqual(checkWorkflowSettings(s), []);
    });

    it("an experiment gets its defaults per item", () => {
        const s = resolveSettings({ workflows: { aps: { enabled: true } }, experiments: [{ name: "fps100" }] });
        assert.deepEqual(s.experiments, [{
            name: "fps100", workflow: "pipeline", run: 1, frameRate: 100, imageWidth: 512, imageHeight: 512, dtype: "int16",
            durationSeconds: 300, marginSeconds: 600,
        }]);
        assert.deepEqual(checkWorkflowSettings(s), []);
    });

    it("structural errors name the key, the value and what is allowed", () => {
        assert.deepEqual(shapeErrors({
            workflows: { aps: { deploy: "helm", profile: "fast", images: { udf: "ptychonn" }, vertices: { cat: { scale: { targetBufferAvailability: 120 } } } } },
            experiments: [{ name: "Bad_Name", dtype: "int12", frameRate: 0 }],
            harvest: { format: "xlsx", step: "2 s" },
            controllers: { actimanager: { cgroupDriver: "auto" } },
        }).sort(), [
            `charon:controllers.actimanager.cgroupDriver: "auto" is not valid; expected one of "systemd", "cgroupfs"`,
            `charon:experiments[0].dtype: "int12" is not valid; expected one of "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"`,
            `charon:experiments[0].frameRate: 0 is out of range; allowed 0.001–100000`,
            `charon:experiments[0].name: "Bad_Name" is not valid; expected a DNS label of at most 40 characters (lower-case letters, digits, -)`,
            // cross-key rules run in the same pass as the shapes
            `charon:experiments[0].workflow: experiment "Bad_Name" needs the APS workflow, but workflows.aps.enabled is false; set it to true or remove the experiment`,
            `charon:harvest.format: "xlsx" is not valid; expected one of "csv", "parquet", "json"`,
            `charon:harvest.step: "2 s" is not valid; expected a duration such as 30s, 1m30s, 1h or 15d`,
            `charon:workflows.aps.deploy: "helm" is not valid; expected one of "pipeline", "baseline"`,
            `charon:workflows.aps.images.udf: "ptychonn" is not valid; expected an image reference with a tag or digest: repo/name:tag or repo/name@sha256:<digest>`,
            `charon:workflows.aps.profile: "fast" is not valid; expected one of "fixed", "autoscaling"`,
            `charon:workflows.aps.vertices.cat.scale.targetBufferAvailability: 120 is out of range; allowed 1–100`,
        ].sort());
        assert.deepEqual(shapeErrors({ experiments: [{ frameRate: 10 }] }), [
            "charon:experiments[0].name: is required (Unique experiment name (results/<stack>/<name>/<run>/).)",
            "charon:experiments[0].workflow: experiments[0] needs the APS workflow, but workflows.aps.enabled is false; set it to true or remove the experiment",
        ]);
        assert.deepEqual(shapeErrors({ workflows: { aps: { vertices: { sink: {} } } } }), [
            "charon:workflows.aps.vertices.sink: unknown setting; allowed keys here: in, cat, out",
        ]);
    });

    it("cross-key checks: experiments need the deployed workflow, unique names; range mode needs a step; min ≤ max", () => {
        assert.deepEqual(check({ experiments: [{ name: "a" }] }), [
            `charon:experiments[0].workflow: experiment "a" needs the APS workflow, but workflows.aps.enabled is false; set it to true or remove the experiment`,
        ]);
        assert.deepEqual(check({
            workflows: { aps: { enabled: true, deploy: "baseline", vertices: { out: { scale: { min: 4, max: 2 } } } } },
            experiments: [{ name: "a", workflow: "baseline" }, { name: "a", workflow: "pipeline" }],
            harvest: { mode: "range" },
        }), [
            "charon:workflows.aps.vertices.out.scale.min: 4 is above scale.max 2; min must be ≤ max",
            `charon:experiments[1].name: "a" is already used by experiments[0]; experiment names must be unique`,
            `charon:experiments[1].workflow: "pipeline" is not the deployed workflow (workflows.aps.deploy is "baseline"); set one of them so they match`,
            `charon:harvest.step: is required when harvest.mode is "range"; set a duration such as 2s`,
        ]);
        assert.deepEqual(check({ workflows: { aps: { images: { udf: "docker.io/gemblerz/ptychonn-udf:latest" } } } }), [
            `charon:workflows.aps.images.udf: "docker.io/gemblerz/ptychonn-udf:latest" is not pinned; use an explicit tag other than latest or dev, or a digest`,
        ]);
    });

    it("actimanager needs a pinned image (no default dev tag) and Kubernetes >= 1.31", () => {
        assert.deepEqual(check({ controllers: { actimanager: { enabled: true } } }), [
            `charon:controllers.actimanager.image: is required when controllers.actimanager.enabled is true; pin the image you deploy, e.g. registry.example.com/actimanager:v0.1.0 or …@sha256:<digest> (upstream only publishes a moving "dev" tag, which is not accepted)`,
        ]);
        assert.deepEqual(check({ controllers: { actimanager: { enabled: true, image: "stefanaki/actimanager:dev" } } }), [
            `charon:controllers.actimanager.image: "stefanaki/actimanager:dev" is not pinned; use an explicit tag other than latest or dev, or a digest (repo/name@sha256:<digest>)`,
        ]);
        assert.deepEqual(check({ k3s: { version: "v1.30.4+k3s1" }, controllers: { actimanager: { enabled: true, image: "registry.local:5000/actimanager:e53b8d7" } } }), [
            `charon:controllers.actimanager.enabled: true needs Kubernetes >= 1.31 (maestro is kube-scheduler 1.31), but k3s.version is "v1.30.4+k3s1"; raise k3s.version or disable actimanager`,
        ]);
        assert.deepEqual(check({ controllers: { actimanager: { enabled: true, image: "registry.local:5000/actimanager:e53b8d7" } } }), []);
    });

    it("isPinnedImage accepts tags (not latest/dev) and digests, with or without a registry port", () => {
        const digest = `sha256:${"a".repeat(64)}`;
        for (const ok of ["a/b:1.0", "registry.local:5000/a/b:v2", `a/b@${digest}`, `a/b:1@${digest}`, "local/ptychonn:cuda126"]) {
            assert.equal(isPinnedImage(ok), true, ok);
        }
        for (const bad of ["a/b", "a/b:latest", "a/b:dev", "registry.local:5000/a/b", "a b:1"]) {
            assert.equal(isPinnedImage(bad), false, bad);
        }
    });
});
