import * as assert from "node:assert/strict";
import { unknownCheckingProxy } from "@pulumi/policy";
import { helmChartVersionPinned, imageProblem, imagesPinned, jetstreamVersionPinned, unpinnedImagesInValues } from "../../policies/rules/pinning";
import { checkResource } from "./harness";
import { T, grafanaRelease, isb, pipeline, release, variant, workloadDeployment } from "./fixtures";

const digest = `sha256:${"ab".repeat(32)}`;

describe("policies: pinned versions", () => {
    describe("image references", () => {
        it("accepts release tags and digests", () => {
            assert.equal(imageProblem("docker.io/gemblerz/ptychonn-udf:0.0.2"), undefined);
            assert.equal(imageProblem("localhost:5000/ptychonn:cuda126"), undefined);
            assert.equal(imageProblem(`nats@${digest}`), undefined);
            assert.equal(imageProblem(`nats:2.10@${digest}`), undefined);
        });

        it("names what is wrong: no tag, latest, empty, bad digest", () => {
            assert.equal(imageProblem("gemblerz/ptychonn-udf"), "has no tag, so the node pulls :latest");
            assert.equal(imageProblem("localhost:5000/ptychonn"), "has no tag, so the node pulls :latest");
            assert.equal(imageProblem("nginx:LATEST"), "uses the floating tag :LATEST");
            assert.equal(imageProblem("nginx:"), "has an empty tag");
            assert.equal(imageProblem(""), "is empty");
            assert.equal(imageProblem("nginx@sha256:abc"), "has a malformed digest (expected @sha256:<64 hex digits>)");
            assert.equal(imageProblem("actimanager:dev", ["latest", "dev"]), "uses the floating tag :dev");
        });

        it("finds images in Helm values under image keys, strings and objects", () => {
            const found = unpinnedImagesInValues({
                image: { repository: "grafana/grafana", tag: "latest" },
                sidecar: { image: { repository: "kiwigrid/k8s-sidecar", tag: "" } },
                initImage: "busybox",
                extraContainers: [{ name: "x", image: "quay.io/x/y:1.0" }, { name: "y", image: "quay.io/x/z" }],
                dcgm: { image: { repository: "nvcr.io/nvidia/dcgm-exporter:latest" } },
                exporter: { image: "prom/nats-exporter", tag: "0.15.0" },
            });
            assert.deepEqual(found.map((f) => [f.path, f.image]), [
                ["values.image.tag", "grafana/grafana:latest"],
                ["values.initImage", "busybox"],
                ["values.extraContainers[1].image", "quay.io/x/z"],
                ["values.dcgm.image.repository", "nvcr.io/nvidia/dcgm-exporter:latest"],
            ]);
        });
    });

    it("skips values that are unknown during preview instead of failing the whole check", () => {
        // The analyzer hands policies props behind a proxy that throws on unknown (not yet computed) values.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { unknownStringValue } = require("@pulumi/policy/proxy");
        const values = unknownCheckingProxy({ image: unknownStringValue, sidecar: { image: "busybox" } });
        assert.deepEqual(unpinnedImagesInValues(values).map((f) => f.path), ["values.sidecar.image"]);
    });

    describe("helm-chart-version-pinned", () => {
        it("passes an exact chart version", async () => {
            assert.deepEqual(await checkResource(helmChartVersionPinned, release("numaflow", {}, { version: "0.4.6" })), []);
            assert.deepEqual(await checkResource(helmChartVersionPinned, release("local", {}, { chart: "./charts/local", version: undefined })), []);
        });

        it("refuses a missing version and a range", async () => {
            const missing = await checkResource(helmChartVersionPinned, release("mimir-distributed", {}, { version: undefined }));
            assert.equal(missing.length, 1);
            assert.match(missing[0], /Helm chart "mimir-distributed" has no version.*Set `version` to an exact chart version/);
            const range = await checkResource(helmChartVersionPinned, release("grafana", {}, { version: "^11.0.0" }));
            assert.match(range[0], /version "\^11\.0\.0" is a range, not an exact version/);
            const v4 = await checkResource(helmChartVersionPinned, { type: T.chart, props: { chart: "alloy", version: "1.x" } });
            assert.match(v4[0], /"1\.x" is a range/);
        });
    });

    describe("images-pinned", () => {
        it("passes pinned images in workloads, pipelines and Helm values", async () => {
            assert.deepEqual(await checkResource(imagesPinned, workloadDeployment()), []);
            assert.deepEqual(await checkResource(imagesPinned, pipeline()), []);
            assert.deepEqual(await checkResource(imagesPinned, grafanaRelease()), []);
        });

        it("reports each unpinned container image with where it is", async () => {
            const bad = variant(workloadDeployment(), (p) => {
                p.spec.template.spec.containers[0].image = "pvapy/consumer:latest";
                p.spec.template.spec.initContainers = [{ name: "fetch", image: "busybox" }];
            });
            assert.deepEqual(await checkResource(imagesPinned, bad), [
                "initContainers[0] (fetch) image \"busybox\" has no tag, so the node pulls :latest. Pin it to a release tag (e.g. repo/name:1.2.3) or a digest (@sha256:…) in components/versions.ts.",
                "containers[0] (consumer) image \"pvapy/consumer:latest\" uses the floating tag :latest. Pin it to a release tag (e.g. repo/name:1.2.3) or a digest (@sha256:…) in components/versions.ts.",
            ]);
            const badVertex = variant(pipeline(), (p) => { p.spec.vertices[1].udf.container.image = "gemblerz/ptychonn-udf"; });
            const msgs = await checkResource(imagesPinned, badVertex);
            assert.equal(msgs.length, 1);
            assert.match(msgs[0], /^vertex cat udf\.container image "gemblerz\/ptychonn-udf" has no tag/);
        });

        it("reports a latest tag in Helm values and honours configured floating tags", async () => {
            const bad = release("grafana", { image: { repository: "grafana/grafana", tag: "latest" } });
            assert.match((await checkResource(imagesPinned, bad))[0], /Helm values values\.image\.tag image "grafana\/grafana:latest" uses the floating tag :latest/);
            const dev = release("actimanager", { image: "stefanaki/actimanager:dev" });
            assert.deepEqual(await checkResource(imagesPinned, dev), []);
            assert.equal((await checkResource(imagesPinned, dev, { floatingTags: ["latest", "dev"] })).length, 1);
        });
    });

    describe("jetstream-version-pinned", () => {
        it("passes an exact JetStream version", async () => {
            assert.deepEqual(await checkResource(jetstreamVersionPinned, isb()), []);
        });

        it("refuses latest and a missing version", async () => {
            const latest = await checkResource(jetstreamVersionPinned, isb("default", { version: "latest" }));
            assert.deepEqual(latest, ["InterStepBufferService spec.jetstream.version is \"latest\", which is not an exact version. " +
                "Set spec.jetstream.version to an exact version listed in the Numaflow controller's config (e.g. \"2.10.29\")."]);
            const missing = await checkResource(jetstreamVersionPinned, variant(isb(), (p) => { delete p.spec.jetstream.version; }));
            assert.match(missing[0], /^InterStepBufferService has no spec\.jetstream\.version/);
        });
    });
});
