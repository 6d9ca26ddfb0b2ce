// The charon policy pack: `pulumi preview --policy-pack policies [--policy-pack-config policies/config/<stack>.json]`.
// Only this file constructs the PolicyPack (which starts the analyzer's gRPC server); the rules live in ./rules.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("charon", {
    description: "Checks every charon change before rollout: pinned versions, secrets, GPU runtime, workload resources, in-place resizing, exposure, Helm hygiene and Numaflow buffers.",
    enforcementLevel: "advisory",
    policies,
});
