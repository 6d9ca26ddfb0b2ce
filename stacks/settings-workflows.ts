/** The resolved settings of the workflows layer: APS workflows, experiments, the harvest hook and controllers. */

export type ApsDeploy = "pipeline" | "baseline";
export type ApsProfileName = "fixed" | "autoscaling";
export type VertexName = "in" | "cat" | "out";

/** Numaflow vertex autoscaling knobs; any key set here overrides the profile's value. */
export interface VertexScaleSettings {
    min?: number;
    max?: number;
    lookbackSeconds?: number;
    scaleUpCooldownSeconds?: number;
    scaleDownCooldownSeconds?: number;
    targetBufferAvailability?: number;
    disabled?: boolean;
}

/** Numaflow vertex buffer limits; any key set here overrides the profile's value. */
export interface VertexLimitSettings {
    readBatchSize?: number;
    bufferMaxLength?: number;
    bufferUsageLimit?: number;
}

export interface VertexSettings {
    scale?: VertexScaleSettings;
    limits?: VertexLimitSettings;
}

export interface ApsImages {
    udsource: string;
    udf: string;
    pvapy: string;
    consumer: string;
}

export interface ApsSettings {
    enabled: boolean;
    deploy: ApsDeploy;
    profile: ApsProfileName;
    channel: string;
    mirrorChannel: string;
    queueSize: number;
    batchSize: number;
    images: ApsImages;
    vertices: Partial<Record<VertexName, VertexSettings>>;
    cpu: string;
    memory: string;
    namespace: string;
}

export interface WorkflowsSettings {
    aps: ApsSettings;
}

export type FrameDtype = "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64" | "float32" | "float64";

export interface ExperimentSettings {
    name: string;
    workflow: ApsDeploy;
    run: number;
    frameRate: number;
    imageWidth: number;
    imageHeight: number;
    dtype: FrameDtype;
    durationSeconds: number;
    /** Defaults to workflows.aps.channel. */
    channel?: string;
    marginSeconds: number;
}

export type HarvestFormat = "csv" | "parquet" | "json";
export type HarvestMode = "auto" | "raw" | "range";

export interface HarvestSettings {
    enabled: boolean;
    queriesFile: string;
    format: HarvestFormat;
    mode: HarvestMode;
    step?: string;
    marginSeconds: number;
    resultsDir: string;
}

export type CgroupDriver = "systemd" | "cgroupfs";

export interface ActimanagerSettings {
    enabled: boolean;
    /** Required when enabled (no default tag). */
    image?: string;
    cgroupDriver: CgroupDriver;
    reconcilePeriod: string;
    verbosity: number;
    schedulerPolicy: "MaximumUtilization" | "Balanced";
}

export interface ControllersSettings {
    actimanager: ActimanagerSettings;
}
