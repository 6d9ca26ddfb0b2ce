import * as assert from "node:assert/strict";
import { ActimanagerSettingsSchema } from "../../components/controllers/settings";
import { layerSettings } from "../helpers/settings";
import * as yaml from "js-yaml";
import {
    ACTIMANAGER_NAMESPACE, Actimanager, actimanagerRbac, daemonArgs, daemonDaemonSet, managerDeployment, nodeCpuTopologyCrd,
    podCpuBindingCrd, schedulerConfig, schedulerDeployment,
} from "../../components/controllers";
import { resolveSettings } from "../../stacks/load";
import { validateObject, validateResource } from "../helpers/kube-schema";
import { runComponents } from "../helpers/pulumi-mocks";

const IMAGE = "registry.local:5000/actimanager:e53b8d7";

describe("controllers: actimanager", () => {
    it("daemon args come from the cluster settings: containerd, the cgroup driver, node name from the downward API", () => {
        const s = resolveSettings({ controllers: { actimanager: { enabled: true, image: IMAGE, cgroupDriver: "cgroupfs", reconcilePeriod: "30s", verbosity: 5 } } });
        assert.deepEqual(daemonArgs(s.controllers.actimanager), [
            "--node-name=$(NODE_NAME)", "--container-runtime=containerd", "--cgroups-path=/cgroup", "--cgroups-driver=cgroupfs",
            "--reconcile-period=30s", "--verbosity=5",
        ]);
        const defaults = resolveSettings({}).controllers.actimanager;
        assert.ok(daemonArgs(defaults).includes("--cgroups-driver=systemd"), "k3s under systemd uses the systemd cgroup driver");
    });

    it("the daemon DaemonSet: privileged, host network, host cgroups at /cgroup, node name from spec.nodeName, every node", async () => {
        const ds = daemonDaemonSet(IMAGE, { cgroupDriver: "systemd", reconcilePeriod: "15s", verbosity: 3 });
        const pod = ds.spec.template.spec;
        const c = pod.containers[0];
        assert.equal(pod.hostNetwork, true);
        assert.deepEqual(pod.tolerations, [{ operator: "Exists" }]);
        assert.equal(c.image, IMAGE);
        assert.deepEqual(c.command, ["/daemon"]);
        assert.deepEqual(c.securityContext, { privileged: true });
        assert.deepEqual(c.env, [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }]);
        assert.deepEqual(c.volumeMounts, [{ name: "cgroup", mountPath: "/cgroup" }]);
        assert.deepEqual(pod.volumes, [{ name: "cgroup", hostPath: { path: "/sys/fs/cgroup", type: "Directory" } }]);
        assert.deepEqual(c.ports, [{ name: "grpc", containerPort: 8089, protocol: "TCP" }]);
        assert.equal(pod.serviceAccountName, "actimanager-daemon");
        await validateObject(ds);
    });

    it("the controller-manager and the maestro scheduler run the same pinned image, unprivileged", async () => {
        const m = managerDeployment(IMAGE);
        assert.deepEqual(m.spec.template.spec.containers[0].command, ["/manager"]);
        assert.ok(m.spec.template.spec.containers[0].args.includes("--leader-elect"));
        assert.equal(m.metadata.namespace, ACTIMANAGER_NAMESPACE);
        // upstream's one image runs as root: runAsNonRoot: true would keep the manager from starting
        assert.equal(m.spec.template.spec.securityContext.runAsNonRoot, false);
        assert.equal(m.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation, false);
        const s = schedulerDeployment(IMAGE, "maestro-scheduler-config");
        assert.equal(s.metadata.namespace, "kube-system");
        assert.deepEqual(s.spec.template.spec.containers[0].command, ["/scheduler", "--config=/etc/kubernetes/maestro-scheduler/config.yaml"]);
        for (const d of [m, s]) {
            assert.equal(d.spec.template.spec.containers[0].image, IMAGE);
            assert.equal(d.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation, false);
            await validateObject(d);
        }
    });

    it("maestro's configuration: scheduler name, WorkloadAware plugin at every extension point it implements", () => {
        const c = yaml.load(schedulerConfig("Balanced")) as any;
        assert.equal(c.kind, "KubeSchedulerConfiguration");
        assert.equal(c.apiVersion, "kubescheduler.config.k8s.io/v1");
        assert.equal(c.profiles.length, 1);
        const p = c.profiles[0];
        assert.equal(p.schedulerName, "maestro");
        for (const point of ["preFilter", "filter", "score", "bind"]) {
            assert.ok(p.plugins[point].enabled.some((x: any) => x.name === "WorkloadAware"), point);
        }
        assert.deepEqual(p.plugins.bind.disabled, [{ name: "*" }]);
        assert.deepEqual(p.pluginConfig, [{ name: "WorkloadAware", args: { policy: "Balanced", features: ["PhysicalCores"] } }]);
    });

    it("the CRDs: NodeCPUTopology cluster-scoped, PodCPUBinding namespaced, both v1alpha1 with status, valid CRD objects", async () => {
        const nct = nodeCpuTopologyCrd();
        const pcb = podCpuBindingCrd();
        assert.equal(nct.metadata.name, "nodecputopologies.cslab.ece.ntua.gr");
        assert.equal(nct.spec.scope, "Cluster");
        assert.deepEqual(nct.spec.names.shortNames, ["nct"]);
        assert.equal(pcb.metadata.name, "podcpubindings.cslab.ece.ntua.gr");
        assert.equal(pcb.spec.scope, "Namespaced");
        const pcbSpec = (pcb.spec.versions[0].schema.openAPIV3Schema as any).properties.spec;
        assert.deepEqual(pcbSpec.required, ["podName", "cpuSet", "exclusivenessLevel"]);
        assert.deepEqual(pcbSpec.properties.exclusivenessLevel.enum, ["None", "CPU", "Core", "Socket", "NUMA"]);
        const nctStatus = (nct.spec.versions[0].schema.openAPIV3Schema as any).properties.status.properties;
        assert.deepEqual(Object.keys(nctStatus), ["resourceStatus", "internalIP"]);
        for (const crd of [nct, pcb]) {
            assert.equal(crd.spec.versions[0].name, "v1alpha1");
            assert.deepEqual(crd.spec.versions[0].subresources, { status: {} });
            await validateObject(crd);
        }
    });

    it("RBAC is scoped per part: the daemon and scheduler cannot write topologies, only the manager can", () => {
        const can = (rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[], resource: string, verb: string) =>
            rules.some((r) => r.resources.includes(resource) && r.verbs.includes(verb));
        assert.ok(can(actimanagerRbac.manager, "nodecputopologies", "create"));
        assert.ok(can(actimanagerRbac.manager, "pods", "update"), "the manager sets finalizers on CPU-bound pods");
        assert.ok(can(actimanagerRbac.manager, "pods", "delete"), "upstream grants pods delete (the pod controller's markers)");
        for (const verb of ["create", "update", "patch", "delete"]) {
            assert.ok(!can(actimanagerRbac.daemon, "nodecputopologies", verb) && !can(actimanagerRbac.daemon, "podcpubindings", verb) && !can(actimanagerRbac.daemon, "pods", verb), `daemon ${verb}`);
            assert.ok(!can(actimanagerRbac.scheduler, "nodecputopologies", verb), `scheduler ${verb}`);
        }
        assert.ok(can(actimanagerRbac.scheduler, "podcpubindings", "create"));
        // what upstream grants the manager: pods (incl. create/delete), their status and log, the lscpu Jobs
        for (const [resource, verb] of [["pods", "create"], ["pods", "delete"], ["pods/status", "update"], ["pods/status", "patch"],
            ["pods/log", "get"], ["jobs", "create"], ["jobs", "delete"], ["pods/finalizers", "update"]] as const) {
            assert.ok(can(actimanagerRbac.manager, resource, verb), `manager may ${verb} ${resource}`);
        }
        assert.ok(actimanagerRbac.managerLeaderElection.every((r) => ["coordination.k8s.io", ""].includes(r.apiGroups[0])));
        assert.ok(!JSON.stringify(actimanagerRbac).includes('"*"'), "no wildcard rules");
    });

    it("Actimanager: CRDs first, parts wired to their service accounts, every object schema-valid", async () => {
        const run = await runComponents(() => new Actimanager("actimanager", { ...layerSettings(ActimanagerSettingsSchema), image: IMAGE, cgroupDriver: "systemd" }));
        const component = run.get("charon:controllers:Actimanager", "actimanager");
        const crds = run.ofType("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition");
        assert.deepEqual(crds.map((c) => c.inputs.metadata.name).sort(), ["nodecputopologies.cslab.ece.ntua.gr", "podcpubindings.cslab.ece.ntua.gr"]);
        const crdUrns = crds.map((c) => c.urn).sort();
        const manager = run.get("kubernetes:apps/v1:Deployment", "actimanager-manager");
        const daemon = run.get("kubernetes:apps/v1:DaemonSet", "actimanager-daemon");
        const scheduler = run.get("kubernetes:apps/v1:Deployment", "actimanager-scheduler");
        for (const workload of [manager, daemon, scheduler]) {
            assert.equal(workload.parent, component.urn);
            for (const crd of crdUrns) {
                assert.ok(workload.dependencies.includes(crd), `${workload.name} waits for ${crd}`);
            }
            assert.equal(workload.inputs.spec.template.spec.containers[0].image, IMAGE);
        }
        assert.ok(daemon.inputs.spec.template.spec.containers[0].args.includes("--cgroups-driver=systemd"));

        const binding = (name: string) => run.get("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", name).inputs;
        assert.deepEqual(binding("actimanager-daemon").subjects, [{ kind: "ServiceAccount", name: "actimanager-daemon", namespace: "actimanager-system" }]);
        assert.deepEqual(binding("actimanager-manager").subjects, [{ kind: "ServiceAccount", name: "actimanager-controller-manager", namespace: "actimanager-system" }]);
        assert.deepEqual(binding("actimanager-scheduler").subjects, [{ kind: "ServiceAccount", name: "maestro-scheduler", namespace: "kube-system" }]);
        assert.equal(binding("actimanager-scheduler-kube-scheduler").roleRef.name, "system:kube-scheduler");
        assert.equal(binding("actimanager-scheduler-volume-scheduler").roleRef.name, "system:volume-scheduler");
        assert.deepEqual(run.get("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "actimanager-daemon").inputs.rules, actimanagerRbac.daemon);
        const config = run.get("kubernetes:core/v1:ConfigMap", "actimanager-scheduler-config").inputs;
        assert.equal(config.data["config.yaml"], schedulerConfig("MaximumUtilization"));

        const k8sObjects = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
        // 2 CRDs + namespace; manager: SA, ClusterRole(+Binding), Role(+Binding), Deployment; daemon: SA,
        // ClusterRole(+Binding), DaemonSet; scheduler: SA, 2 system bindings, auth-reader RoleBinding,
        // ClusterRole(+Binding), ConfigMap, Deployment
        assert.equal(k8sObjects.length, 3 + 6 + 4 + 8);
        for (const r of k8sObjects) {
            await validateResource(r);
        }
    });

});
