/** The Numaflow layer's settings model (`charon:numaflow`): its JetStream inter-step buffer. */
import type { Problem } from "../../model/check";
import { parseDuration } from "../../model/formats/duration";
import { Cpu, Duration, Enum, Integer, Memory, type Static, Type } from "../../model/schema";

/** An absolute directory other than / that does not climb with `..`. */
export const hostDirectoryPattern = "^/(?!.*\\.\\.)[^\\s]+$";

export const IsbSettingsSchema = Type.Object({
    replicas: Enum([1, 3] as const, { default: 1, description: "JetStream servers (1 or 3; Numaflow rejects 2)." }),
    retention: Enum(["Limits", "Interest", "WorkQueue"] as const, { default: "WorkQueue", description: "Stream retention policy." }),
    storage: Enum(["File", "Memory"] as const, { default: "Memory", description: "Stream storage." }),
    maxMsgs: Integer({ minimum: -1, default: 50000, description: "Max messages per stream (-1 unlimited)." }),
    maxAge: Duration({ default: "1h", description: "Max message age." }),
    maxBytes: Integer({ minimum: -1, default: -1, description: "Max stream bytes (-1 unlimited)." }),
    duplicates: Duration({
        default: "100ms",
        description: "Duplicate-detection window of the streams, 100ms to maxAge. JetStream cannot switch detection off: 100ms is its smallest window (0 would mean its 2-minute default).",
    }),
    volumeSize: Memory({ default: "3Gi", description: "Persistent volume per JetStream server." }),
    storageMode: Enum(["local-path", "local-volumes"] as const, {
        default: "local-path", description: "local-path: k3s's provisioner; local-volumes: pre-created local PersistentVolumes per node.",
    }),
    hostPath: Type.String({
        default: "/var/lib/charon/numaflow", pattern: hostDirectoryPattern,
        hint: "an absolute directory other than / without '..', such as /var/lib/charon/numaflow",
        description: "Host directory for local-volumes.",
    }),
    cpu: Cpu({ default: "500m", description: "CPU request of each JetStream container." }),
    memory: Memory({ default: "1Gi", description: "Memory request and limit of each JetStream container." }),
}, { additionalProperties: false, default: {}, description: "The InterStepBufferService `default`." });

export const NumaflowSettingsSchema = Type.Object({
    isb: IsbSettingsSchema,
}, { additionalProperties: false, default: {}, description: "Numaflow controller and its JetStream inter-step buffer (ISB)." });

export type IsbSettings = Static<typeof IsbSettingsSchema>;
export type NumaflowSettings = Static<typeof NumaflowSettingsSchema>;

/** JetStream refuses a duplicate window below this (nats-server stream.go), and reads 0 as two minutes. */
export const minimumDuplicateWindowMs = 100;

/** Rules across the ISB's keys; `root` prefixes every key (`charon:`). */
export function numaflowSettingsProblems(s: NumaflowSettings, root: string): Problem[] {
    const problems: Problem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${root}${key}`, message: `${root}${key}: ${message}` });
    const duplicates = parseDuration(s.isb.duplicates);
    const maxAge = parseDuration(s.isb.maxAge);
    if (duplicates !== undefined && duplicates < minimumDuplicateWindowMs) {
        add("numaflow.isb.duplicates", `${JSON.stringify(s.isb.duplicates)} is below JetStream's smallest window of 100ms (0 would silently mean 2 minutes); duplicate detection cannot be switched off, use 100ms for the least of it`);
    } else if (duplicates !== undefined && maxAge !== undefined && maxAge > 0 && duplicates > maxAge) {
        add("numaflow.isb.duplicates", `${JSON.stringify(s.isb.duplicates)} is longer than numaflow.isb.maxAge ${JSON.stringify(s.isb.maxAge)}; JetStream refuses a duplicate window longer than the stream's maximum age`);
    }
    return problems;
}
