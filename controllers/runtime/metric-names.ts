/**
 * The metrics every control loop exports (one source for the runtime, the monitoring catalogue, the dashboard and
 * the harvest list). Every series carries `controller` (the loop's name).
 */
export const CONTROLLER_METRICS = {
    /** 1, with `kind` (pd-replicas, inplace-resize, custom) and `target` (deployment/<name> or pods/<selector>). */
    info: "charon_controller_info",
    /** 1 while the loop runs in dry-run mode (actions validated by the API server, not applied), else 0. */
    dryRun: "charon_controller_dry_run",
    /** Each observed query's samples at the last tick: `query` plus the sample's own labels. */
    observation: "charon_controller_observation",
    /** Observed replicas of the controlled Deployment. */
    targetReplicas: "charon_controller_target_replicas",
    /** Observed CPU request of the controlled container, per `pod`. */
    podCpu: "charon_controller_pod_cpu_millicores",
    /** Observed memory request of the controlled container, per `pod`. */
    podMemory: "charon_controller_pod_memory_bytes",
    /** decide's internal values at the last tick (error, derivative, control signal, …), per `signal`. */
    signal: "charon_controller_signal",
    /** Replicas decide asked for at the last tick (before bounds). */
    desiredReplicas: "charon_controller_desired_replicas",
    /** CPU decide asked for at the last tick, per `pod` (before bounds). */
    desiredCpu: "charon_controller_desired_cpu_millicores",
    /** Memory decide asked for at the last tick, per `pod` (before bounds). */
    desiredMemory: "charon_controller_desired_memory_bytes",
    /** Actions by `kind` and `outcome` (applied, dry-run, failed, held) and `reason` (why held or clamped). */
    actions: "charon_controller_actions_total",
    /** Ticks run. */
    ticks: "charon_controller_ticks_total",
    /** Ticks that overran the period (the next one was skipped). */
    overruns: "charon_controller_overruns_total",
    /** Failures by `stage` (observe, decide, act). */
    errors: "charon_controller_errors_total",
    /** Duration of the last tick. */
    tickDuration: "charon_controller_tick_duration_seconds",
    /** When the last tick started (Unix seconds). */
    lastTick: "charon_controller_last_tick_timestamp_seconds",
} as const;

/** Every exported metric name (what the monitoring catalogue lists for the loops' PodMonitor). */
export const CONTROLLER_METRIC_NAMES: readonly string[] = Object.values(CONTROLLER_METRICS);

/** The PodMonitor (in the monitoring namespace) that scrapes every loop's /metrics. */
export const LOOPS_POD_MONITOR = "charon-control-loops";

/** Container port name and number of each loop's /metrics endpoint. */
export const METRICS_PORT = { name: "metrics", containerPort: 9464 } as const;
