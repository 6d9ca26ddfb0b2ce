/**
 * Secrets: no literal or well-known passwords in Helm values or pod specs, Grafana's admin from a Secret.
 * (The k3s token and kubeconfig rules live in k3s.ts beside the other k3s checks.)
 */
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { Type } from "../../model/schema";
import { patterns, ruleConfig } from "./config";
import { Props, chartName, containersOf, helmTypes, isObject, known, knownEntries, podTemplateOf, types, workloadTypes } from "./kinds";

/** Passwords that ship as defaults or appear in guides; a value equal to one of them is never acceptable. */
export const defaultWellKnownPasswords = [
    "admin", "admin123", "administrator", "changeme", "change-me", "default", "grafana", "letmein", "minio123",
    "minioadmin", "passw0rd", "password", "password1", "password123", "prom-operator", "root", "secret",
    "supersecret", "test", "toor", "12345678", "123456",
];

/** Keys whose value is a credential itself (not a reference to one, like `existingSecret` or `passwordKey`). */
export const defaultCredentialKeyPattern =
    "(password|passwd|pwd)$|^(secretKey|secret_key|secretAccessKey|secret_access_key|apiKey|api_key|token|authToken|bearerToken)$";

/** A value that points at a credential instead of holding one: env/file interpolation or a template. */
const referencePattern = /^(\$\{[^}]+\}|\$__(env|file)\{[^}]+\}|\{\{.*\}\}|\$\([A-Z0-9_]+\))$/;

const literalConfig = ruleConfig(Type.Object({
    wellKnownPasswords: Type.Array(Type.String(), {
        default: defaultWellKnownPasswords, description: "Values never accepted as a credential (compared case-insensitively).",
    }),
    credentialKeyPattern: Type.String({
        default: defaultCredentialKeyPattern, description: "Regular expression (case-insensitive) for keys whose value is a credential.",
    }),
    allowedPaths: Type.Array(Type.String(), {
        default: [], description: "Helm values paths (e.g. values.minio.rootPassword) allowed to hold a literal; well-known values are still refused.",
    }),
}));

export interface CredentialFinding {
    path: string;
    /** True when the value is on the well-known list (reported even under an allowed path). */
    wellKnown: boolean;
}

/** Literal credentials in Helm values: credential-named keys holding a non-empty string that is not a reference. */
export function literalCredentialsInValues(values: unknown, keyPattern: RegExp, wellKnown: Set<string>, path = "values"): CredentialFinding[] {
    const out: CredentialFinding[] = [];
    if (Array.isArray(values)) {
        values.forEach((v, i) => out.push(...literalCredentialsInValues(v, keyPattern, wellKnown, `${path}[${i}]`)));
        return out;
    }
    if (!isObject(values)) {
        return out;
    }
    for (const [key, value] of knownEntries(values)) {
        const here = `${path}.${key}`;
        if (typeof value === "string" && keyPattern.test(key) && value !== "" && !referencePattern.test(value.trim())) {
            out.push({ path: here, wellKnown: wellKnown.has(value.toLowerCase()) });
        } else {
            out.push(...literalCredentialsInValues(value, keyPattern, wellKnown, here));
        }
    }
    return out;
}

function decodeBase64(value: string): string {
    return Buffer.from(value, "base64").toString("utf8");
}

/** Resources a resource's property draws on (the engine's per-property dependencies, else all dependencies). */
function inputsFrom(resource: PolicyResource, property: string): PolicyResource[] {
    const perProperty = resource.propertyDependencies?.[property];
    return perProperty && perProperty.length > 0 ? perProperty : resource.dependencies ?? [];
}

export const noLiteralPasswords: StackValidationPolicy = {
    name: "no-literal-passwords",
    description: "No literal or well-known passwords in Helm values, pod environment or Secrets.",
    enforcementLevel: "mandatory",
    configSchema: literalConfig.schema,
    validateStack: (args, report) => {
        const cfg = literalConfig.read(args);
        const [keyPattern] = patterns("credentialKeyPattern", [cfg.credentialKeyPattern]);
        const wellKnown = new Set(cfg.wellKnownPasswords.map((p) => p.toLowerCase()));
        for (const r of args.resources) {
            if (helmTypes.includes(r.type)) {
                // A credential computed from a RandomPassword is generated, not written in the code.
                const generated = inputsFrom(r, "values").some((d) => d.type === types.randomPassword);
                const values = known(() => r.props.values, undefined);
                for (const f of literalCredentialsInValues(values, keyPattern, wellKnown)) {
                    if (f.wellKnown) {
                        report(`Helm release ${r.name}: ${f.path} is a well-known password. Generate it with @pulumi/random, store it ` +
                            "in a Kubernetes Secret and point the chart at the Secret (e.g. admin.existingSecret).", r.urn);
                    } else if (!generated && !cfg.allowedPaths.includes(f.path)) {
                        report(`Helm release ${r.name}: ${f.path} holds a password written in the code. Generate it with a ` +
                            "RandomPassword, keep it in a Kubernetes Secret and reference the Secret (existingSecret / valueFrom).", r.urn);
                    }
                }
            } else if (r.type === types.secret) {
                const entries: [string, unknown][] = [
                    ...knownEntries(r.props.stringData ?? {}),
                    ...knownEntries(r.props.data ?? {}).map(([k, v]): [string, unknown] => [k, decodeBase64(String(v))]),
                ];
                for (const [key, value] of entries) {
                    if (typeof value === "string" && keyPattern.test(key) && wellKnown.has(value.toLowerCase())) {
                        report(`Secret ${r.name} key ${key} holds a well-known password. Generate it with @pulumi/random (RandomPassword).`, r.urn);
                    }
                }
            } else if (workloadTypes.includes(r.type)) {
                const template = podTemplateOf(r.type, r.props);
                for (const { where, container } of template ? containersOf(template.spec) : []) {
                    for (const env of known(() => (container.env ?? []) as Props[], [])) {
                        const value = known(() => env?.value, undefined);
                        if (typeof value === "string" && value !== "" && keyPattern.test(String(env.name ?? "")) && !referencePattern.test(value)) {
                            report(`${r.name} ${where} env ${env.name} holds a literal credential. ` +
                                "Read it from a Secret with valueFrom.secretKeyRef.", r.urn);
                        }
                    }
                }
            }
        }
    },
};

const grafanaConfig = ruleConfig(Type.Object({
    chartNames: Type.Array(Type.String(), { default: ["grafana"], description: "Chart names that install Grafana itself (values at the top level)." }),
}));

/** Where Grafana's values sit in a chart: at the top for the grafana chart, under `grafana` for umbrella charts. */
function grafanaValues(chart: string, values: Props, chartNames: string[]): { values: Props; prefix: string } | undefined {
    if (chartNames.includes(chart)) {
        return { values, prefix: "values" };
    }
    if (isObject(values.grafana)) {
        return { values: values.grafana, prefix: "values.grafana" };
    }
    return undefined;
}

export const grafanaAdminFromSecret: ResourceValidationPolicy = {
    name: "grafana-admin-from-secret",
    description: "Grafana's admin credentials come from a Kubernetes Secret (admin.existingSecret), never from values.",
    enforcementLevel: "mandatory",
    configSchema: grafanaConfig.schema,
    validateResource: (args, report) => {
        if (!helmTypes.includes(args.type)) {
            return;
        }
        const { chartNames } = grafanaConfig.read(args);
        const g = grafanaValues(chartName(args.props), args.props.values ?? {}, chartNames);
        if (!g || g.values.enabled === false) {
            return;
        }
        if (g.values.adminPassword !== undefined) {
            report(`${g.prefix}.adminPassword is set: the password lands in the release's values in plain text. ` +
                `Remove it and set ${g.prefix}.admin.existingSecret to a Secret holding a generated password.`);
        }
        const existing = g.values.admin?.existingSecret;
        if (typeof existing !== "string" || existing === "") {
            report(`${g.prefix}.admin.existingSecret is not set, so the chart generates or defaults the admin password outside Pulumi. ` +
                `Create a Secret from a RandomPassword and set ${g.prefix}.admin.existingSecret (with userKey/passwordKey).`);
        }
    },
};

export const secretPolicies = [noLiteralPasswords, grafanaAdminFromSecret];
