/**
 * Every chart, image and binary version the platform installs, pinned, in one table.
 * Each layer keeps its entries in its own block below.
 */

// ── cluster ──────────────────────────────────────────────────────────────────────────────────────────────
/** Default k3s release; a stack may pin another with charon:k3s.version. */
export const k3sVersion = "v1.34.2+k3s1";

// ── monitoring ───────────────────────────────────────────────────────────────────────────────────────────

// ── numaflow ─────────────────────────────────────────────────────────────────────────────────────────────

// ── gpu ──────────────────────────────────────────────────────────────────────────────────────────────────

// ── workflows & controllers ──────────────────────────────────────────────────────────────────────────────
