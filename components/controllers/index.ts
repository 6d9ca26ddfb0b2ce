export {
    Actimanager, type ActimanagerArgs, ACTIMANAGER_NAMESPACE, SCHEDULER_NAME, actimanagerRbac, daemonArgs,
    daemonDaemonSet, managerDeployment, schedulerConfig, schedulerDeployment,
} from "./actimanager";
export * from "./actimanager-crds";
