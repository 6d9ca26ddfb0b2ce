/**
 * Every rule of the charon policy pack, in the order the README lists them. The pack (policies/index.ts) serves
 * this array; tests import it directly (constructing a PolicyPack starts a gRPC server, so tests never do).
 */
import { Policies } from "@pulumi/policy";
import { exposurePolicies } from "./exposure";
import { gpuPolicies } from "./gpu";
import { helmPolicies } from "./helm";
import { k3sPolicies } from "./k3s";
import { numaflowPolicies } from "./numaflow";
import { pinningPolicies } from "./pinning";
import { resourcePolicies } from "./resources";
import { secretPolicies } from "./secrets";

export { exposurePolicies, gpuPolicies, helmPolicies, k3sPolicies, numaflowPolicies, pinningPolicies, resourcePolicies, secretPolicies };

export const policies: Policies = [
    ...pinningPolicies,
    ...secretPolicies,
    ...k3sPolicies,
    ...gpuPolicies,
    ...resourcePolicies,
    ...exposurePolicies,
    ...helmPolicies,
    ...numaflowPolicies,
];
