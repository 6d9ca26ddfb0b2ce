/**
 * The JetStream InterStepBufferService: the bufferConfig YAML Numaflow merges over its
 * controller defaults, and the custom resource's spec. Pure functions, tested directly.
 */
import * as yaml from "js-yaml";
import { formatGoDuration, parseDuration } from "../../model/formats/duration";
import type { IsbSettings } from "./settings";
import { InterStepBufferService, numaflowKinds } from "../crds";

/** JetStream retention policy codes as Numaflow's bufferConfig expects them. */
export const retentionCodes = { Limits: 0, Interest: 1, WorkQueue: 2 } as const;
/** JetStream storage type codes as Numaflow's bufferConfig expects them. */
export const storageCodes = { File: 0, Memory: 1 } as const;

/** The parts of bufferConfig this platform sets (everything else keeps the controller's defaults). */
export interface BufferConfig {
    stream: {
        retention: 0 | 1 | 2;
        maxMsgs: number;
        maxAge: string;
        maxBytes: number;
        storage: 0 | 1;
        replicas: number;
        duplicates: string;
    };
    otBucket: { replicas: number };
    procBucket: { replicas: number };
}

/** A settings duration (Prometheus form, validated) as the Go duration Numaflow's bufferConfig is parsed with. */
function goDuration(duration: string): string {
    return formatGoDuration(parseDuration(duration)!);
}

/** JetStream stream (and KV bucket) replicas for an ISB of `replicas` servers: never more than 3. */
export function streamReplicas(replicas: number): number {
    return Math.max(1, Math.min(replicas, 3));
}

/** The typed bufferConfig for the settings. */
export function bufferConfig(s: IsbSettings): BufferConfig {
    const replicas = streamReplicas(s.replicas);
    return {
        stream: {
            retention: retentionCodes[s.retention],
            maxMsgs: s.maxMsgs,
            maxAge: goDuration(s.maxAge),
            maxBytes: s.maxBytes,
            storage: storageCodes[s.storage],
            replicas,
            duplicates: goDuration(s.duplicates),
        },
        otBucket: { replicas },
        procBucket: { replicas },
    };
}

/** bufferConfig as the YAML string the InterStepBufferService carries (stable key order). */
export function bufferConfigYaml(s: IsbSettings): string {
    return yaml.dump(bufferConfig(s), { lineWidth: -1, sortKeys: false });
}

/** Storage class the ISB's volume claims use: k3s's provisioner or the platform's local-volume class. */
export const localPathStorageClass = "local-path";
export const localVolumeStorageClass = "numaflow-isb-local";

export function isbStorageClassName(s: IsbSettings): string {
    return s.storageMode === "local-volumes" ? localVolumeStorageClass : localPathStorageClass;
}

export interface IsbSpecInput {
    name: string;
    namespace: string;
    /** JetStream version key (versions.ts). */
    version: string;
    settings: IsbSettings;
}

/**
 * The InterStepBufferService object. The JetStream container gets the settings' CPU request and memory request
 * and limit (GOMEMLIMIT follows the limit); volumes come from the storage class chosen by storageMode.
 */
export function isbObject(input: IsbSpecInput): InterStepBufferService {
    const s = input.settings;
    return {
        ...numaflowKinds.interStepBufferService,
        metadata: { name: input.name, namespace: input.namespace, labels: { "app.kubernetes.io/part-of": "charon" } },
        spec: {
            jetstream: {
                version: input.version,
                replicas: s.replicas,
                containerTemplate: {
                    resources: {
                        requests: { cpu: s.cpu, memory: s.memory },
                        limits: { memory: s.memory },
                    },
                },
                persistence: {
                    storageClassName: isbStorageClassName(s),
                    accessMode: "ReadWriteOnce",
                    volumeSize: s.volumeSize,
                },
                bufferConfig: bufferConfigYaml(s),
            },
        },
    };
}

/**
 * Property paths of the ISB whose change replaces it: existing streams never pick up a new bufferConfig, and a
 * StatefulSet's volume claims cannot change in place.
 */
export const isbReplaceOnChanges = ["spec.jetstream.bufferConfig", "spec.jetstream.persistence", "spec.jetstream.replicas"];
