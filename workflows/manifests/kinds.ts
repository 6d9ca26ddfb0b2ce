/**
 * The kinds a stack's own manifests may declare, each with the resource class that declares it: namespaced
 * objects of the workflow namespace that the platform can run (built-in workload, configuration and access kinds,
 * and the Numaflow and monitoring kinds its charts install). Cluster-scoped kinds (Namespace, ClusterRole, CRDs,
 * …) are the platform's business, not a workflow's.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

type Declare = (name: string, body: Record<string, any>, opts: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** A custom resource: apiVersion and kind ride along in the inputs. */
const custom: Declare = (name, body, opts) => new k8s.apiextensions.CustomResource(name, body as k8s.apiextensions.CustomResourceArgs, opts);

export const workflowKinds: Readonly<Record<string, Readonly<Record<string, Declare>>>> = {
    "v1": {
        ConfigMap: (n, b, o) => new k8s.core.v1.ConfigMap(n, b, o),
        Secret: (n, b, o) => new k8s.core.v1.Secret(n, b, o),
        Service: (n, b, o) => new k8s.core.v1.Service(n, b, o),
        ServiceAccount: (n, b, o) => new k8s.core.v1.ServiceAccount(n, b, o),
        PersistentVolumeClaim: (n, b, o) => new k8s.core.v1.PersistentVolumeClaim(n, b, o),
        Pod: (n, b, o) => new k8s.core.v1.Pod(n, b, o),
    },
    "apps/v1": {
        Deployment: (n, b, o) => new k8s.apps.v1.Deployment(n, b, o),
        StatefulSet: (n, b, o) => new k8s.apps.v1.StatefulSet(n, b, o),
        DaemonSet: (n, b, o) => new k8s.apps.v1.DaemonSet(n, b, o),
    },
    "batch/v1": {
        Job: (n, b, o) => new k8s.batch.v1.Job(n, b, o),
        CronJob: (n, b, o) => new k8s.batch.v1.CronJob(n, b, o),
    },
    "rbac.authorization.k8s.io/v1": {
        Role: (n, b, o) => new k8s.rbac.v1.Role(n, b, o),
        RoleBinding: (n, b, o) => new k8s.rbac.v1.RoleBinding(n, b as k8s.rbac.v1.RoleBindingArgs, o),
    },
    "policy/v1": { PodDisruptionBudget: (n, b, o) => new k8s.policy.v1.PodDisruptionBudget(n, b, o) },
    "autoscaling/v2": { HorizontalPodAutoscaler: (n, b, o) => new k8s.autoscaling.v2.HorizontalPodAutoscaler(n, b, o) },
    "networking.k8s.io/v1": { NetworkPolicy: (n, b, o) => new k8s.networking.v1.NetworkPolicy(n, b, o) },
    "numaflow.numaproj.io/v1alpha1": { Pipeline: custom, MonoVertex: custom },
    "monitoring.coreos.com/v1": { ServiceMonitor: custom, PodMonitor: custom },
};

export function isWorkflowKind(apiVersion: unknown, kind: unknown): boolean {
    return typeof apiVersion === "string" && typeof kind === "string" && workflowKinds[apiVersion]?.[kind] !== undefined;
}

/** Declares an object of an allowed kind (typed classes for built-in kinds, CustomResource for the rest). */
export function declareObject(name: string, object: Record<string, any>, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
    return workflowKinds[object.apiVersion][object.kind](name, object, opts);
}

/** "apps/v1 Deployment, …" for messages. */
export function workflowKindList(): string {
    return Object.entries(workflowKinds).flatMap(([v, kinds]) => Object.keys(kinds).map((k) => `${v} ${k}`)).join(", ");
}
