/**
 * Every chart, image and binary version the platform installs, pinned, in one table.
 * Each layer keeps its entries in its own block below.
 */

// ── cluster ──────────────────────────────────────────────────────────────────────────────────────────────
// (k3s itself is a stack setting: charon:k3s.version, default in stacks/schema.ts)

// ── monitoring ───────────────────────────────────────────────────────────────────────────────────────────

// ── numaflow ─────────────────────────────────────────────────────────────────────────────────────────────

// ── gpu ──────────────────────────────────────────────────────────────────────────────────────────────────

// ── workflows & controllers ──────────────────────────────────────────────────────────────────────────────
