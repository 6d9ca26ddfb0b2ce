/**
 * The contract between the runtime and a controller's decide function: what a tick observes, what decide returns,
 * and the actions the runtime may apply. Built-in controllers and a researcher's own file implement the same
 * `Decide` signature; nothing here does I/O.
 */

/** One sample of an instant vector: the series' labels (without __name__) and its value at the tick. */
export interface Sample {
    labels: Record<string, string>;
    value: number;
}

/** A pod the loop may resize: the controlled container's current resources as the API server reports them. */
export interface PodState {
    name: string;
    /** Pod phase (Pending, Running, …); only Running pods are resized. */
    phase: string;
    /** CPU request and limit of the controlled container in millicores (undefined when unset). */
    cpuRequestMillis?: number;
    cpuLimitMillis?: number;
    /** Memory request and limit of the controlled container in bytes (undefined when unset). */
    memoryRequestBytes?: number;
    memoryLimitBytes?: number;
    /** A resize of this pod is pending or in progress (status conditions PodResizePending/PodResizeInProgress). */
    resizing: boolean;
    /** The container is a restartable init container (a native sidecar, as Numaflow runs its UDF containers). */
    sidecar: boolean;
}

/** What the loop controls, as observed at the tick. */
export type TargetState =
    | { kind: "deployment"; namespace: string; name: string; replicas: number }
    | { kind: "pods"; namespace: string; container: string; pods: PodState[] };

/** Everything decide sees at one tick. */
export interface Observation {
    /** Tick time, epoch milliseconds. */
    time: number;
    /** The controller's queries by name, each an instant vector evaluated at `time`. */
    metrics: Record<string, Sample[]>;
    target: TargetState;
}

/** Set the controlled Deployment's replicas (through its scale subresource). */
export interface ScaleAction {
    kind: "scale";
    replicas: number;
}

/** Resize one pod's controlled container in place (through the pod's resize subresource). */
export interface ResizeAction {
    kind: "resize";
    pod: string;
    /** New CPU request in millicores (the limit follows, keeping the container's request/limit relation). */
    cpuMillis?: number;
    /** New memory request in bytes (the limit follows likewise). */
    memoryBytes?: number;
}

export type Action = ScaleAction | ResizeAction;

/** What decide returns: the desired actions, the state for the next tick, and named values worth plotting. */
export interface Decision<S> {
    actions: Action[];
    state: S;
    /** Internal values (error, derivative, control signal, …), exported as charon_controller_signal{signal=…}. */
    signals?: Record<string, number>;
}

/**
 * A controller's decision function: pure, from the observation, its own state from the previous tick (undefined
 * on the first) and its parameters, to the actions it wants. The runtime clamps actions to the loop's bounds and
 * holds those inside the minimum interval, so decide need not know either.
 */
export type Decide<P = Record<string, number>, S = unknown> = (observation: Observation, previous: S | undefined, params: P) => Decision<S>;

/** Bounds the runtime enforces on every action, whatever decide asked for. */
export interface Limits {
    minReplicas?: number;
    maxReplicas?: number;
    minCpuMillis?: number;
    maxCpuMillis?: number;
    minMemoryBytes?: number;
    maxMemoryBytes?: number;
}
