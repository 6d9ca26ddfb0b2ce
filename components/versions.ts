/**
 * Every chart, image and binary version the platform installs, pinned, in one table.
 * Each layer keeps its entries in its own block below.
 */

// ── tooling ──────────────────────────────────────────────────────────────────────────────────────────────
/** The Pulumi CLI the main-job commands install when none is on PATH (matches @pulumi/pulumi in package.json). */
export const pulumiCliVersion = "3.270.0";

// ── cluster ──────────────────────────────────────────────────────────────────────────────────────────────
/** Default k3s release; a stack may pin another with charon:k3s.version. */
export const k3sVersion = "v1.34.2+k3s1";

// ── monitoring ───────────────────────────────────────────────────────────────────────────────────────────

// ── numaflow ─────────────────────────────────────────────────────────────────────────────────────────────

// ── gpu ──────────────────────────────────────────────────────────────────────────────────────────────────

// ── workflows & controllers ──────────────────────────────────────────────────────────────────────────────
/** APS PtychoNN workflow images (the original's tags). A stack may pin others under charon:workflows.aps.images. */
export const apsImages = {
    /** Numaflow user-defined source: PvaPy frames → Numaflow messages (python + pvapy 5.5 + pynumaflow). */
    udsource: "docker.io/gemblerz/pvapy-udsource:0.0.1",
    /** Numaflow UDF: PtychoNN TensorRT inference, batch 8, 512² int16 in → 64² int16 out. */
    udf: "docker.io/gemblerz/ptychonn-udf:0.0.2",
    /** PvaPy tools: pvapy-ad-sim-server (the simulated stream) and pvapy-mirror-server. */
    pvapy: "docker.io/akhileshraj/charon:0.0.1",
    /**
     * Baseline consumer (pvapy-hpc-consumer + InferPtychoNNImageProcessor + TensorRT model). The original built it
     * locally and never published it: import it into each GPU node's containerd or pin a registry copy.
     */
    consumer: "local/ptychonn:cuda126",
} as const;
/**
 * actimanager has no default: upstream only publishes a moving `dev` tag, so a stack that enables it must pin an
 * image (charon:controllers.actimanager.image). Kubernetes >= 1.31 is required (maestro is kube-scheduler 1.31).
 */
export const actimanagerMinKubernetesMinor = 31;
