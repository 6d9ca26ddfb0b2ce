export {
    Actimanager, type ActimanagerArgs, ACTIMANAGER_NAMESPACE, SCHEDULER_NAME, actimanagerRbac, daemonArgs,
    daemonDaemonSet, managerDeployment, schedulerConfig, schedulerDeployment,
} from "./actimanager";
export * from "./actimanager-crds";
export { ControlLoops, type ControlLoopsArgs } from "./control-loops";
export {
    BUILT_IN_LOOPS, ControlLoopsSettingsSchema, CustomControllerSettingsSchema, CustomControllersSettingsSchema, InplaceResizeSettingsSchema,
    ObservationQuerySchema, PdReplicasSettingsSchema, SeriesQuerySchema, controlLoopsSettingsProblems, type ControlLoopsContext,
    type ControlLoopsSettings, type CustomControllerSettings, type InplaceResizeSettings, type PdReplicasSettings,
} from "./loops-settings";
