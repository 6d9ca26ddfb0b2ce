/**
 * Progress on stderr: on a TTY one redrawn bar (queries done, samples, rate, ETA); otherwise plain lines, one per
 * finished query and per retry, which read well in CI logs and experiment-hook output.
 */
import type { Manifest, QueryEntry } from "./manifest";

export type HarvestEvent =
    | { type: "start"; queries: number; skipped: number }
    | { type: "query-start"; index: number; query: string }
    | { type: "samples"; index: number; samples: number }
    | { type: "retry"; index: number; query: string; error: string; delayMs: number }
    | { type: "fallback"; index: number; query: string; reason: string }
    | { type: "query-done"; entry: QueryEntry }
    | { type: "writing"; format: string; output: string }
    | { type: "note"; text: string }
    | { type: "done"; manifest: Manifest };

export interface ProgressStream {
    write(s: string): unknown;
    isTTY?: boolean;
    columns?: number;
}

function si(n: number): string {
    if (n >= 1e9) {
        return `${(n / 1e9).toFixed(2)}G`;
    }
    if (n >= 1e6) {
        return `${(n / 1e6).toFixed(2)}M`;
    }
    if (n >= 1e3) {
        return `${(n / 1e3).toFixed(1)}k`;
    }
    return String(n);
}

function secs(ms: number): string {
    if (ms < 60_000) {
        return `${(ms / 1000).toFixed(1)}s`;
    }
    return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

export class ProgressReporter {
    private total = 0;
    private done = 0;
    private samples = 0;
    private readonly t0 = Date.now();
    private lastDraw = 0;
    private drawn = false;
    private readonly tty: boolean;

    constructor(private readonly out: ProgressStream, opts: { quiet?: boolean; tty?: boolean } = {}) {
        this.quiet = opts.quiet ?? false;
        this.tty = opts.tty ?? out.isTTY === true;
    }

    private readonly quiet: boolean;

    /** The event handler to pass as HarvestOptions.onEvent. */
    readonly handle = (e: HarvestEvent): void => {
        if (this.quiet) {
            return;
        }
        switch (e.type) {
            case "start":
                this.total = e.queries;
                this.done = e.skipped;
                if (e.skipped > 0) {
                    this.line(`resuming: ${e.skipped} of ${e.queries} queries already complete`);
                }
                break;
            case "samples":
                this.samples += e.samples;
                this.draw(false);
                break;
            case "retry":
                this.line(`retry  #${e.index + 1} ${e.query}: ${e.error} (again in ${secs(e.delayMs)})`);
                break;
            case "fallback":
                this.line(`note   #${e.index + 1} ${e.query}: ${e.reason}`);
                break;
            case "query-done": {
                this.done++;
                const q = e.entry;
                if (!this.tty || q.status !== "ok") {
                    const what = q.status === "ok"
                        ? `ok     #${q.index + 1} ${q.query}: ${q.series} series, ${q.samples} samples in ${secs(q.durationMs)}${q.retries > 0 ? ` (${q.retries} retries)` : ""}`
                        : `FAILED #${q.index + 1} ${q.query}: ${q.error}`;
                    this.line(what);
                }
                this.draw(true);
                break;
            }
            case "writing":
                this.line(`writing ${e.format} ${e.output}`);
                break;
            case "note":
                this.line(`note   ${e.text}`);
                break;
            case "done":
                this.draw(true);
                if (this.tty && this.drawn) {
                    this.out.write("\n");
                    this.drawn = false;
                }
                break;
            default:
                break;
        }
    };

    private line(s: string): void {
        if (this.tty && this.drawn) {
            this.out.write("\r\x1b[2K");
            this.drawn = false;
        }
        this.out.write(s + "\n");
        this.draw(true);
    }

    private draw(force: boolean): void {
        if (!this.tty || this.total === 0) {
            return;
        }
        const now = Date.now();
        if (!force && now - this.lastDraw < 100) {
            return;
        }
        this.lastDraw = now;
        const elapsed = now - this.t0;
        const frac = this.done / this.total;
        const width = 24;
        const filled = Math.round(frac * width);
        const rate = elapsed > 0 ? (this.samples * 1000) / elapsed : 0;
        const eta = this.done > 0 && this.done < this.total ? ` · ETA ${secs((elapsed / this.done) * (this.total - this.done))}` : "";
        const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${this.done}/${this.total} queries · ${si(this.samples)} samples · ${si(Math.round(rate))}/s${eta}`;
        this.out.write(`\r\x1b[2K${bar.slice(0, (this.out.columns ?? 120) - 1)}`);
        this.drawn = true;
    }
}
