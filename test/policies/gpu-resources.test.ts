import * as assert from "node:assert/strict";
import { gpuDaemonsOnGpuNodes, gpuRuntimeClass } from "../../policies/rules/gpu";
import { workloadResizePolicy, workloadResources } from "../../policies/rules/resources";
import { checkResource } from "./harness";
import { T, pipeline, release, variant, workloadDeployment } from "./fixtures";

const dcgm = (values: Record<string, any>) => release("dcgm-exporter", values, { namespace: "gpu" });

describe("policies: GPU", () => {
    describe("gpu-runtime-class", () => {
        it("accepts GPU workloads, vertices and daemons with runtimeClassName nvidia, and ignores CPU-only pods", async () => {
            assert.deepEqual(await checkResource(gpuRuntimeClass, workloadDeployment()), []);
            assert.deepEqual(await checkResource(gpuRuntimeClass, pipeline()), []);
            assert.deepEqual(await checkResource(gpuRuntimeClass, dcgm({ runtimeClassName: "nvidia" })), []);
            const cpuOnly = variant(workloadDeployment(), (p) => {
                const spec = p.spec.template.spec;
                delete spec.runtimeClassName;
                spec.containers[0].image = "docker.io/akhileshraj/charon:0.0.1";
                spec.containers[0].resources = { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } };
            });
            assert.deepEqual(await checkResource(gpuRuntimeClass, cpuOnly), []);
        });

        it("refuses a GPU request or the inference image without the runtime class", async () => {
            const noClass = variant(workloadDeployment(), (p) => { delete p.spec.template.spec.runtimeClassName; });
            assert.deepEqual(await checkResource(gpuRuntimeClass, noClass), [
                "containers[0] (consumer) requests nvidia.com/gpu, but the pod's runtimeClassName is unset. Set the pod template's " +
                "runtimeClassName: nvidia so the container gets the NVIDIA runtime (without it the GPU is invisible inside the container).",
            ]);
            const vertex = variant(pipeline(), (p) => { p.spec.vertices[1].runtimeClassName = "runc"; });
            assert.deepEqual(await checkResource(gpuRuntimeClass, vertex), [
                "vertex cat udf.container runs the inference image docker.io/gemblerz/ptychonn-udf:0.0.2, but vertex cat has runtimeClassName runc. " +
                "Set vertex cat runtimeClassName: nvidia so the container gets the NVIDIA runtime (without it the GPU is invisible inside the container).",
            ]);
            assert.match((await checkResource(gpuRuntimeClass, dcgm({})))[0], /^GPU chart dcgm-exporter runs with runtimeClassName unset\. Set values\.runtimeClassName: nvidia\.$/);
        });

        it("takes the inference image patterns from its configuration", async () => {
            const job = {
                type: T.job, name: "infer",
                props: { spec: { template: { spec: { containers: [{ name: "m", image: "example.org/my-model:1.0" }] } } } },
            };
            assert.deepEqual(await checkResource(gpuRuntimeClass, job), []);
            assert.equal((await checkResource(gpuRuntimeClass, job, { inferenceImages: ["my-model"] })).length, 1);
        });
    });

    describe("gpu-daemons-on-gpu-nodes", () => {
        it("accepts a node selector on the GPU label, and the device plugin's own default affinity", async () => {
            assert.deepEqual(await checkResource(gpuDaemonsOnGpuNodes, dcgm({ nodeSelector: { "nvidia.com/gpu.present": "true" } })), []);
            assert.deepEqual(await checkResource(gpuDaemonsOnGpuNodes, release("nvidia-device-plugin", { runtimeClassName: "nvidia" })), []);
            const affinity = {
                nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "nvidia.com/gpu.present", operator: "In", values: ["true"] }] }] } },
            };
            assert.deepEqual(await checkResource(gpuDaemonsOnGpuNodes, dcgm({ affinity })), []);
        });

        it("refuses GPU daemons that would run on every node", async () => {
            assert.deepEqual(await checkResource(gpuDaemonsOnGpuNodes, dcgm({ runtimeClassName: "nvidia" })), [
                "GPU chart dcgm-exporter would run on every node, including nodes without a GPU (where it crash-loops). " +
                "Set values.nodeSelector to {\"nvidia.com/gpu.present\": \"true\"} (the cluster layer labels GPU nodes so).",
            ]);
            const overridden = release("nvidia-device-plugin", { nodeSelector: { "kubernetes.io/os": "linux" } });
            assert.equal((await checkResource(gpuDaemonsOnGpuNodes, overridden)).length, 1);
        });
    });
});

describe("policies: workload resources", () => {
    describe("workload-resources", () => {
        it("accepts role=workload pods and UDF vertices with requests and limits; ignores other pods", async () => {
            assert.deepEqual(await checkResource(workloadResources, workloadDeployment()), []);
            assert.deepEqual(await checkResource(workloadResources, pipeline()), []);
            const system = variant(workloadDeployment(), (p) => {
                p.spec.template.metadata.labels = { app: "x" };
                delete p.spec.template.spec.containers[0].resources;
            });
            assert.deepEqual(await checkResource(workloadResources, system), []);
        });

        it("names each missing request and limit", async () => {
            const pod = {
                type: T.pod, name: "sim",
                props: {
                    metadata: { name: "sim", labels: { role: "workload" } },
                    spec: { containers: [{ name: "sim", image: "x:1", resources: { requests: { cpu: "1000m", memory: "500Mi" }, limits: { memory: "3Gi" } } }] },
                },
            };
            assert.deepEqual(await checkResource(workloadResources, pod), [
                "containers[0] (sim) has no resources.limits.cpu. Declare CPU and memory requests and limits: the scheduler shares nodes by " +
                "requests, and in-place resizing changes these values (a container without them cannot be resized).",
            ]);
            const vertex = variant(pipeline(), (p) => { p.spec.vertices[1].udf.container.resources = { requests: { cpu: "1" } }; });
            assert.match((await checkResource(workloadResources, vertex))[0],
                /^vertex cat udf\.container has no resources\.requests\.memory, resources\.limits\.cpu, resources\.limits\.memory\./);
        });
    });

    describe("workload-resize-policy (advisory)", () => {
        it("accepts a resize policy for cpu and memory", async () => {
            assert.deepEqual(await checkResource(workloadResizePolicy, workloadDeployment()), []);
            assert.deepEqual(await checkResource(workloadResizePolicy, pipeline()), []);
        });

        it("names the resources without a resize policy", async () => {
            const partial = variant(workloadDeployment(), (p) => {
                p.spec.template.spec.containers[0].resizePolicy = [{ resourceName: "cpu", restartPolicy: "NotRequired" }];
            });
            assert.match((await checkResource(workloadResizePolicy, partial))[0], /^containers\[0\] \(consumer\) has no resizePolicy for memory\./);
        });
    });
});
