/**
 * Helm hygiene: releases roll back by themselves on failure, clean up what a failed upgrade created, carry a
 * stable name (not an auto-generated suffix) and wait a stated time.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { types } from "./kinds";

export const helmReleaseHygiene: ResourceValidationPolicy = {
    name: "helm-release-hygiene",
    description: "Helm releases are atomic with cleanup on failure, and set an explicit name and timeout.",
    enforcementLevel: "advisory",
    validateResource: (args, report) => {
        if (args.type !== types.helmRelease) {
            return;
        }
        const p = args.props;
        const what = `Helm release ${p.name ?? args.name} (chart ${p.chart ?? "?"})`;
        if (p.atomic !== true) {
            report(`${what} is not atomic: a failed install stays half-applied and blocks the next one ` +
                "(\"cannot re-use a name that is still in use\"). Set atomic: true.");
        }
        if (p.cleanupOnFail !== true) {
            report(`${what} does not clean up on failure: resources a failed upgrade created are left behind. Set cleanupOnFail: true.`);
        }
        if (typeof p.name !== "string" || p.name === "") {
            report(`${what} has no explicit name, so Pulumi adds a random suffix and the release name changes on replacement. Set name.`);
        }
        if (typeof p.timeout !== "number" || p.timeout <= 0) {
            report(`${what} relies on the default 300 s timeout. Set timeout (seconds) to how long this chart really needs.`);
        }
    },
};

export const helmPolicies = [helmReleaseHygiene];
