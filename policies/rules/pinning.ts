/**
 * Pinned versions: Helm charts at exact versions, container images with a real tag or a digest, JetStream at a
 * version the Numaflow controller knows. A floating version changes what runs without any change to the code.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { Type } from "../../model/schema";
import { ruleConfig } from "./config";
import {
    Props, containersOf, helmTypes, isObject, known, knownEntries, podTemplateOf, types, verticesOf, workloadTypes,
} from "./kinds";

const exactVersion = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const digestPattern = /^sha256:[a-f0-9]{64}$/;

/** Why an image reference is not pinned, or undefined when it is (a non-floating tag or a sha256 digest). */
export function imageProblem(ref: unknown, floatingTags: string[] = ["latest"]): string | undefined {
    if (typeof ref !== "string" || ref.trim() === "") {
        return "is empty";
    }
    const at = ref.indexOf("@");
    if (at >= 0) {
        return digestPattern.test(ref.slice(at + 1)) ? undefined : "has a malformed digest (expected @sha256:<64 hex digits>)";
    }
    const colon = ref.indexOf(":", ref.lastIndexOf("/") + 1);
    if (colon < 0) {
        return "has no tag, so the node pulls :latest";
    }
    const tag = ref.slice(colon + 1);
    if (tag === "") {
        return "has an empty tag";
    }
    if (floatingTags.some((t) => t.toLowerCase() === tag.toLowerCase())) {
        return `uses the floating tag :${tag}`;
    }
    return undefined;
}

/** An image found in Helm values: where, what, and why it is not pinned. */
export interface ValuesImageFinding {
    path: string;
    image: string;
    problem: string;
}

const imageKey = /^image$|Image$/;

/**
 * Walks Helm values for the keys charts use for images: `image: "repo:tag"`, `image: {repository, tag, digest}`
 * (also under names ending in `Image`, e.g. `initImage`). An object without a tag is accepted: charts then use
 * their appVersion, which the chart version pins.
 */
export function unpinnedImagesInValues(values: unknown, floatingTags: string[] = ["latest"], path = "values"): ValuesImageFinding[] {
    const out: ValuesImageFinding[] = [];
    if (Array.isArray(values)) {
        values.forEach((v, i) => out.push(...unpinnedImagesInValues(v, floatingTags, `${path}[${i}]`)));
        return out;
    }
    if (!isObject(values)) {
        return out;
    }
    for (const [key, value] of knownEntries(values)) {
        const here = `${path}.${key}`;
        if (imageKey.test(key) && typeof value === "string") {
            const siblingTag = known(() => values.tag ?? values.imageTag, undefined);
            const ref = siblingTag !== undefined && !value.includes("@") && !/:[^/]*$/.test(value) ? `${value}:${siblingTag}` : value;
            const problem = imageProblem(ref, floatingTags);
            if (problem) {
                out.push({ path: here, image: ref, problem });
            }
            continue;
        }
        if (imageKey.test(key) && isObject(value)) {
            const repo = known(() => value.repository ?? value.repo ?? value.name, undefined);
            const tag = known(() => value.tag, undefined);
            const digest = known(() => value.digest ?? value.sha, undefined);
            if (typeof repo === "string" && !digest) {
                if (typeof tag === "string" && tag !== "") {
                    const problem = imageProblem(`${repo}:${tag}`, floatingTags);
                    if (problem) {
                        out.push({ path: `${here}.tag`, image: `${repo}:${tag}`, problem });
                    }
                } else if (/:[^/]*$/.test(repo) || repo.includes("@")) {
                    const problem = imageProblem(repo, floatingTags);
                    if (problem) {
                        out.push({ path: `${here}.repository`, image: repo, problem });
                    }
                }
            }
        }
        out.push(...unpinnedImagesInValues(value, floatingTags, here));
    }
    return out;
}

/** Every container image a resource declares directly: pod templates and Numaflow vertices. */
export function declaredImages(type: string, props: Props): { where: string; image: unknown }[] {
    const template = podTemplateOf(type, props);
    if (template) {
        return containersOf(template.spec).map((c) => ({ where: c.where, image: c.container.image }));
    }
    if (type === types.pipeline) {
        return verticesOf(props).flatMap((v) => v.all.map((c) => ({ where: c.where, image: c.container.image })));
    }
    if (type === types.monoVertex) {
        return verticesOf({ spec: { vertices: [{ name: props.metadata?.name ?? "monovertex", ...props.spec }] } })
            .flatMap((v) => v.all.map((c) => ({ where: c.where, image: c.container.image })));
    }
    return [];
}

export const helmChartVersionPinned: ResourceValidationPolicy = {
    name: "helm-chart-version-pinned",
    description: "Every Helm release installs an exact chart version.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (!helmTypes.includes(args.type)) {
            return;
        }
        const chart = String(args.props.chart ?? "");
        if (chart.startsWith("./") || chart.startsWith("/") || chart.startsWith("../")) {
            return; // a chart from this repository is pinned by the commit
        }
        const version = args.props.version;
        if (version === undefined || version === "") {
            report(`Helm chart "${chart}" has no version, so every install may pick a different release. ` +
                "Set `version` to an exact chart version from components/versions.ts (e.g. \"0.4.0\").");
        } else if (!exactVersion.test(String(version))) {
            report(`Helm chart "${chart}" version "${version}" is a range, not an exact version. ` +
                "Pin it to one release (e.g. \"6.0.5\") in components/versions.ts.");
        }
    },
};

const imagesConfig = ruleConfig(Type.Object({
    floatingTags: Type.Array(Type.String(), { default: ["latest"], description: "Tags that move between releases and therefore do not pin an image." }),
}));

export const imagesPinned: ResourceValidationPolicy = {
    name: "images-pinned",
    description: "Every container image, declared directly or in Helm values, has a tag that is not floating (or a digest).",
    enforcementLevel: "mandatory",
    configSchema: imagesConfig.schema,
    validateResource: (args, report) => {
        const { floatingTags } = imagesConfig.read(args);
        const fix = "Pin it to a release tag (e.g. repo/name:1.2.3) or a digest (@sha256:…) in components/versions.ts.";
        if (helmTypes.includes(args.type)) {
            const values = known(() => args.props.values, undefined);
            for (const f of unpinnedImagesInValues(values, floatingTags)) {
                report(`Helm values ${f.path} image "${f.image}" ${f.problem}. ${fix}`);
            }
            return;
        }
        if (!workloadTypes.includes(args.type) && args.type !== types.pipeline && args.type !== types.monoVertex) {
            return;
        }
        for (const { where, image } of declaredImages(args.type, args.props)) {
            const problem = imageProblem(image, floatingTags);
            if (problem) {
                report(`${where} image "${image ?? ""}" ${problem}. ${fix}`);
            }
        }
    },
};

export const jetstreamVersionPinned: ResourceValidationPolicy = {
    name: "jetstream-version-pinned",
    description: "The JetStream inter-step buffer runs an exact JetStream version, never `latest`.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== types.isbService) {
            return;
        }
        const jetstream = args.props.spec?.jetstream;
        if (!jetstream) {
            return; // a Redis ISB has no JetStream version
        }
        const version = jetstream.version;
        const fix = "Set spec.jetstream.version to an exact version listed in the Numaflow controller's config (e.g. \"2.10.29\").";
        if (version === undefined || version === "") {
            report(`InterStepBufferService has no spec.jetstream.version. ${fix}`);
        } else if (String(version).toLowerCase() === "latest" || !/^\d+\.\d+(\.\d+)?(-[0-9A-Za-z.-]+)?$/.test(String(version))) {
            report(`InterStepBufferService spec.jetstream.version is "${version}", which is not an exact version. ${fix}`);
        }
    },
};

export const pinningPolicies = [helmChartVersionPinned, imagesPinned, jetstreamVersionPinned];
