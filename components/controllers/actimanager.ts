/**
 * actimanager (fine-grained CPU management): its two CRDs, the controller-manager, the per-node daemon and the
 * `maestro` scheduler, each with RBAC limited to what that part does. One image holds /manager, /daemon and
 * /scheduler; there is no default image (upstream only publishes a moving `dev` tag), so it is a required arg.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import type { ActimanagerSettings, CgroupDriver } from "./settings";
import { ACTIMANAGER_GROUP, nodeCpuTopologyCrd, podCpuBindingCrd } from "./actimanager-crds";

type Obj = Record<string, any>;

export const ACTIMANAGER_NAMESPACE = "actimanager-system";
export const SCHEDULER_NAMESPACE = "kube-system";
export const SCHEDULER_NAME = "maestro";
/** ConfigMap holding maestro's KubeSchedulerConfiguration. */
export const SCHEDULER_CONFIG_MAP = "maestro-scheduler-config";
/** gRPC port of the daemon on each node (host network: the manager dials <node InternalIP>:8089). */
export const DAEMON_PORT = 8089;
/** Where the daemon sees the host's cgroup tree. */
export const DAEMON_CGROUP_MOUNT = "/cgroup";
/** k3s always runs containerd (embedded); the daemon must be told so. */
export const K3S_CONTAINER_RUNTIME = "containerd";

const LABELS = { "app.kubernetes.io/part-of": "actimanager", "app.kubernetes.io/managed-by": "charon" };

export interface DaemonOptions {
    /** Kubelet cgroup driver on the nodes: systemd when k3s runs as a systemd unit with the cpuset controller. */
    cgroupDriver: CgroupDriver;
    /** Reconcile period, e.g. 15s. */
    reconcilePeriod: string;
    /** Log verbosity 0–5. */
    verbosity: number;
}

/** The daemon's command line: node name from the downward API, k3s's runtime and cgroup layout. */
export function daemonArgs(o: DaemonOptions): string[] {
    return [
        "--node-name=$(NODE_NAME)",
        `--container-runtime=${K3S_CONTAINER_RUNTIME}`,
        `--cgroups-path=${DAEMON_CGROUP_MOUNT}`,
        `--cgroups-driver=${o.cgroupDriver}`,
        `--reconcile-period=${o.reconcilePeriod}`,
        `--verbosity=${o.verbosity}`,
    ];
}

const rule = (apiGroups: string[], resources: string[], verbs: string[]) => ({ apiGroups, resources, verbs });
const READ = ["get", "list", "watch"];
const WRITE = ["get", "list", "watch", "create", "update", "patch", "delete"];

/** What each part may do (from the controllers' kubebuilder RBAC markers and the daemon's informers). */
export const actimanagerRbac = {
    manager: [
        rule([ACTIMANAGER_GROUP], ["nodecputopologies", "podcpubindings"], WRITE),
        rule([ACTIMANAGER_GROUP], ["nodecputopologies/status", "podcpubindings/status"], ["get", "update", "patch"]),
        rule([ACTIMANAGER_GROUP], ["nodecputopologies/finalizers", "podcpubindings/finalizers"], ["update"]),
        // the pod controller's markers (internal/app/controller/pod): pods, their status and finalizers
        rule([""], ["pods"], WRITE),
        rule([""], ["pods/status"], ["get", "update", "patch"]),
        rule([""], ["pods/finalizers"], ["update"]),
        // the topology controller runs an lscpu Job per node and reads its pod's log (config/rbac/role.yaml)
        rule(["batch"], ["jobs"], ["get", "list", "watch", "create", "delete"]),
        rule([""], ["pods/log"], READ),
        rule([""], ["nodes"], READ),
        rule([""], ["events"], ["create", "patch"]),
    ],
    /** Namespaced (actimanager-system): leader election. */
    managerLeaderElection: [
        rule(["coordination.k8s.io"], ["leases"], WRITE),
        rule([""], ["events"], ["create", "patch"]),
    ],
    daemon: [
        rule([ACTIMANAGER_GROUP], ["podcpubindings", "nodecputopologies"], READ),
        rule([""], ["pods"], READ),
    ],
    /** On top of system:kube-scheduler and system:volume-scheduler: the WorkloadAware plugin's own objects. */
    scheduler: [
        rule([ACTIMANAGER_GROUP], ["nodecputopologies"], READ),
        rule([ACTIMANAGER_GROUP], ["podcpubindings"], WRITE),
    ],
};

/** The maestro scheduler's KubeSchedulerConfiguration (WorkloadAware plugin; binds pods itself). */
export function schedulerConfig(policy: "MaximumUtilization" | "Balanced"): string {
    return yaml.dump({
        apiVersion: "kubescheduler.config.k8s.io/v1",
        kind: "KubeSchedulerConfiguration",
        leaderElection: { leaderElect: false },
        profiles: [{
            schedulerName: SCHEDULER_NAME,
            plugins: {
                preFilter: { enabled: [{ name: "WorkloadAware" }] },
                filter: { enabled: [{ name: "TaintToleration" }, { name: "WorkloadAware" }] },
                score: { enabled: [{ name: "WorkloadAware" }] },
                bind: { enabled: [{ name: "WorkloadAware" }], disabled: [{ name: "*" }] },
            },
            pluginConfig: [{ name: "WorkloadAware", args: { policy, features: ["PhysicalCores"] } }],
        }],
    }, { lineWidth: -1 });
}

const restricted = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

/** A Deployment or DaemonSet of one actimanager part, selected by its component label. */
function workload(kind: "Deployment" | "DaemonSet", name: string, namespace: string, component: string, podSpec: Obj): Obj {
    const selector = { ...LABELS, "app.kubernetes.io/component": component };
    return {
        apiVersion: "apps/v1",
        kind,
        metadata: { name, namespace, labels: selector },
        spec: {
            ...(kind === "Deployment" ? { replicas: 1 } : {}),
            selector: { matchLabels: selector },
            template: { metadata: { labels: selector }, spec: podSpec },
        },
    };
}

/** The controller-manager Deployment. */
export function managerDeployment(image: string): Obj {
    return workload("Deployment", "actimanager-controller-manager", ACTIMANAGER_NAMESPACE, "controller-manager", {
        serviceAccountName: "actimanager-controller-manager",
        // Upstream's single image runs as root (its manager sets runAsNonRoot: false); true would keep it from starting.
        securityContext: { runAsNonRoot: false, seccompProfile: { type: "RuntimeDefault" } },
        terminationGracePeriodSeconds: 10,
        containers: [{
            name: "manager",
            image,
            command: ["/manager"],
            args: ["--leader-elect", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8080"],
            securityContext: restricted,
            livenessProbe: { httpGet: { path: "/healthz", port: 8081 }, initialDelaySeconds: 15, periodSeconds: 20 },
            readinessProbe: { httpGet: { path: "/readyz", port: 8081 }, initialDelaySeconds: 5, periodSeconds: 10 },
            resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
        }],
    });
}

/** The daemon DaemonSet: privileged, host network, the host's /sys/fs/cgroup at /cgroup, on every node. */
export function daemonDaemonSet(image: string, o: DaemonOptions): Obj {
    return workload("DaemonSet", "actimanager-daemon", ACTIMANAGER_NAMESPACE, "daemon", {
        serviceAccountName: "actimanager-daemon",
        hostNetwork: true,
        dnsPolicy: "ClusterFirstWithHostNet",
        tolerations: [{ operator: "Exists" }],
        containers: [{
            name: "daemon",
            image,
            command: ["/daemon"],
            args: daemonArgs(o),
            env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
            ports: [{ name: "grpc", containerPort: DAEMON_PORT, protocol: "TCP" }],
            securityContext: { privileged: true },
            volumeMounts: [{ name: "cgroup", mountPath: DAEMON_CGROUP_MOUNT }],
            readinessProbe: { grpc: { port: DAEMON_PORT }, initialDelaySeconds: 5, periodSeconds: 10 },
            livenessProbe: { grpc: { port: DAEMON_PORT }, initialDelaySeconds: 15, periodSeconds: 20 },
            resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
        }],
        volumes: [{ name: "cgroup", hostPath: { path: "/sys/fs/cgroup", type: "Directory" } }],
    });
}

/** The maestro scheduler Deployment (kube-system), reading its configuration from a ConfigMap. */
export function schedulerDeployment(image: string, configMapName: string): Obj {
    return workload("Deployment", "maestro-scheduler", SCHEDULER_NAMESPACE, "scheduler", {
        serviceAccountName: "maestro-scheduler",
        containers: [{
            name: "scheduler",
            image,
            command: ["/scheduler", "--config=/etc/kubernetes/maestro-scheduler/config.yaml"],
            securityContext: restricted,
            livenessProbe: { httpGet: { path: "/healthz", port: 10259, scheme: "HTTPS" }, initialDelaySeconds: 15 },
            readinessProbe: { httpGet: { path: "/healthz", port: 10259, scheme: "HTTPS" } },
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
            volumeMounts: [{ name: "config", mountPath: "/etc/kubernetes/maestro-scheduler", readOnly: true }],
        }],
        volumes: [{ name: "config", configMap: { name: configMapName } }],
    });
}

export interface ActimanagerArgs extends Omit<ActimanagerSettings, "enabled" | "image"> {
    /** The image holding /manager, /daemon and /scheduler, pinned (validated: required when enabled). */
    image: string;
}

/** actimanager on the cluster: CRDs first, then the controller-manager, daemon and maestro scheduler. */
export class Actimanager extends pulumi.ComponentResource {
    /** The scheduler name pods set (spec.schedulerName) to be placed by maestro. */
    readonly schedulerName: pulumi.Output<string>;
    readonly namespace: pulumi.Output<string>;
    readonly crds: k8s.apiextensions.v1.CustomResourceDefinition[];

    constructor(name: string, args: ActimanagerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("charon:controllers:Actimanager", name, {}, opts);
        const child = { parent: this };
        const daemon: DaemonOptions = {
            cgroupDriver: args.cgroupDriver,
            reconcilePeriod: args.reconcilePeriod,
            verbosity: args.verbosity,
        };

        this.crds = [
            new k8s.apiextensions.v1.CustomResourceDefinition(`${name}-crd-nodecputopologies`, nodeCpuTopologyCrd(), child),
            new k8s.apiextensions.v1.CustomResourceDefinition(`${name}-crd-podcpubindings`, podCpuBindingCrd(), child),
        ];
        const ns = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: ACTIMANAGER_NAMESPACE, labels: LABELS } }, child);
        const afterCrds = { parent: this, dependsOn: this.crds };

        // Controller-manager: cluster-wide CRs, pods' finalizers, nodes; leader election in its own namespace.
        const managerSa = this.serviceAccount(`${name}-manager`, "actimanager-controller-manager", ns);
        this.clusterRole(`${name}-manager`, "actimanager-manager", actimanagerRbac.manager, managerSa);
        const leaderRole = new k8s.rbac.v1.Role(`${name}-manager-leader-election`, {
            metadata: { name: "actimanager-leader-election", namespace: ACTIMANAGER_NAMESPACE, labels: LABELS },
            rules: actimanagerRbac.managerLeaderElection,
        }, { parent: this, dependsOn: [ns] });
        new k8s.rbac.v1.RoleBinding(`${name}-manager-leader-election`, {
            metadata: { name: "actimanager-leader-election", namespace: ACTIMANAGER_NAMESPACE, labels: LABELS },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: leaderRole.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: managerSa.metadata.name, namespace: ACTIMANAGER_NAMESPACE }],
        }, child);
        new k8s.apps.v1.Deployment(`${name}-manager`, managerDeployment(args.image) as k8s.apps.v1.DeploymentArgs,
            { ...afterCrds, dependsOn: [...this.crds, managerSa] });

        // Daemon: reads bindings and pods, pins CPUs through the host's cgroups.
        const daemonSa = this.serviceAccount(`${name}-daemon`, "actimanager-daemon", ns);
        this.clusterRole(`${name}-daemon`, "actimanager-daemon", actimanagerRbac.daemon, daemonSa);
        new k8s.apps.v1.DaemonSet(`${name}-daemon`, daemonDaemonSet(args.image, daemon) as k8s.apps.v1.DaemonSetArgs,
            { ...afterCrds, dependsOn: [...this.crds, daemonSa] });

        // maestro: a second kube-scheduler with the WorkloadAware plugin, in kube-system.
        const schedulerSa = new k8s.core.v1.ServiceAccount(`${name}-scheduler`, {
            metadata: { name: "maestro-scheduler", namespace: SCHEDULER_NAMESPACE, labels: LABELS },
        }, child);
        const subject = [{ kind: "ServiceAccount", name: schedulerSa.metadata.name, namespace: SCHEDULER_NAMESPACE }];
        for (const role of ["system:kube-scheduler", "system:volume-scheduler"]) {
            new k8s.rbac.v1.ClusterRoleBinding(`${name}-scheduler-${role.split(":")[1]}`, {
                metadata: { name: `maestro-scheduler-as-${role.split(":")[1]}`, labels: LABELS },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
                subjects: subject,
            }, child);
        }
        new k8s.rbac.v1.RoleBinding(`${name}-scheduler-authentication-reader`, {
            metadata: { name: "maestro-scheduler-authentication-reader", namespace: SCHEDULER_NAMESPACE, labels: LABELS },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "extension-apiserver-authentication-reader" },
            subjects: subject,
        }, child);
        this.clusterRole(`${name}-scheduler`, "actimanager-maestro-scheduler", actimanagerRbac.scheduler, schedulerSa, SCHEDULER_NAMESPACE);
        const config = new k8s.core.v1.ConfigMap(`${name}-scheduler-config`, {
            metadata: { name: SCHEDULER_CONFIG_MAP, namespace: SCHEDULER_NAMESPACE, labels: LABELS },
            data: { "config.yaml": schedulerConfig(args.schedulerPolicy) },
        }, child);
        new k8s.apps.v1.Deployment(`${name}-scheduler`, schedulerDeployment(args.image, SCHEDULER_CONFIG_MAP) as k8s.apps.v1.DeploymentArgs,
            { ...afterCrds, dependsOn: [...this.crds, schedulerSa, config] });

        this.schedulerName = pulumi.output(SCHEDULER_NAME);
        this.namespace = ns.metadata.name;
        this.registerOutputs({ schedulerName: this.schedulerName, namespace: this.namespace });
    }

    private serviceAccount(logical: string, name: string, ns: k8s.core.v1.Namespace): k8s.core.v1.ServiceAccount {
        return new k8s.core.v1.ServiceAccount(logical, {
            metadata: { name, namespace: ACTIMANAGER_NAMESPACE, labels: LABELS },
        }, { parent: this, dependsOn: [ns] });
    }

    private clusterRole(logical: string, name: string, rules: k8s.types.input.rbac.v1.PolicyRule[], sa: k8s.core.v1.ServiceAccount,
        namespace: string = ACTIMANAGER_NAMESPACE): void {
        const role = new k8s.rbac.v1.ClusterRole(logical, { metadata: { name, labels: LABELS }, rules }, { parent: this });
        new k8s.rbac.v1.ClusterRoleBinding(logical, {
            metadata: { name, labels: LABELS },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace }],
        }, { parent: this });
    }
}
