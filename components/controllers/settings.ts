/** The controllers layer's settings model (`charon:controllers`): actimanager. */
import type { Problem } from "../../model/check";
import { isPinnedImage } from "../../model/formats/names";
import { Duration, Enum, ImageReference, Integer, type Static, Type } from "../../model/schema";
import { actimanagerMinKubernetesMinor } from "../versions";
import { ControlLoopsSettingsSchema } from "./loops-settings";

export const ActimanagerSettingsSchema = Type.Object({
    enabled: Type.Boolean({ default: false, description: "Install actimanager (Kubernetes >= 1.31)." }),
    image: Type.Optional(ImageReference({
        description: "actimanager image holding /manager, /daemon and /scheduler; required when enabled (no default: pin a tag or digest).",
    })),
    cgroupDriver: Enum(["systemd", "cgroupfs"] as const, {
        default: "systemd",
        description: "Kubelet cgroup driver the daemon must match: k3s uses systemd when run as a systemd service with the cpuset controller, else cgroupfs.",
    }),
    reconcilePeriod: Duration({ default: "15s", description: "Daemon reconcile period." }),
    verbosity: Integer({ minimum: 0, maximum: 5, default: 3, description: "Daemon log verbosity (0–5)." }),
    schedulerPolicy: Enum(["MaximumUtilization", "Balanced"] as const, {
        default: "MaximumUtilization", description: "WorkloadAware policy of the maestro scheduler.",
    }),
}, {
    additionalProperties: false, default: {},
    description: "actimanager: fine-grained CPU pinning (CRDs, controller-manager, per-node daemon, maestro scheduler).",
});

export const ControllersSettingsSchema = Type.Object({
    actimanager: ActimanagerSettingsSchema,
    ...ControlLoopsSettingsSchema.properties,
}, { additionalProperties: false, default: {}, description: "Optional resource-management controllers: actimanager and the control loops." });

export type ActimanagerSettings = Static<typeof ActimanagerSettingsSchema>;
export type ControllersSettings = Static<typeof ControllersSettingsSchema>;
export type CgroupDriver = ActimanagerSettings["cgroupDriver"];

/** Rules across the controllers' keys and the cluster's Kubernetes version; `root` prefixes every key. */
export function controllersSettingsProblems(s: ControllersSettings, kubernetesMinor: number | undefined, k3sVersion: string, root: string): Problem[] {
    const problems: Problem[] = [];
    const add = (key: string, message: string) => problems.push({ key: `${root}${key}`, message: `${root}${key}: ${message}` });
    const am = s.actimanager;
    if (!am.enabled) {
        return problems;
    }
    if (am.image === undefined) {
        add("controllers.actimanager.image", `is required when controllers.actimanager.enabled is true; pin the image you deploy, e.g. registry.example.com/actimanager:v0.1.0 or …@sha256:<digest> (upstream only publishes a moving "dev" tag, which is not accepted)`);
    } else if (!isPinnedImage(am.image)) {
        add("controllers.actimanager.image", `${JSON.stringify(am.image)} is not pinned; use an explicit tag other than latest or dev, or a digest (repo/name@sha256:<digest>)`);
    }
    if (kubernetesMinor !== undefined && kubernetesMinor < actimanagerMinKubernetesMinor) {
        add("controllers.actimanager.enabled", `true needs Kubernetes >= 1.${actimanagerMinKubernetesMinor} (maestro is kube-scheduler 1.${actimanagerMinKubernetesMinor}), but k3s.version is ${JSON.stringify(k3sVersion)}; raise k3s.version or disable actimanager`);
    }
    return problems;
}
