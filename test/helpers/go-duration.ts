/** Go's own time.ParseDuration, as the oracle for durations handed to Go programs (built once per test run). */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { requireGo } from "./go-toolchain";

let binary: string | undefined;

function build(): string {
    const go = requireGo();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "go-duration-"));
    const out = path.join(dir, "durations");
    execFileSync(go, ["build", "-o", out, path.join(__dirname, "go", "durations.go")], {
        env: { ...process.env, GO111MODULE: "off", GOFLAGS: "" }, stdio: ["ignore", "ignore", "inherit"],
    });
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    return out;
}

/** Milliseconds Go reads from each text, or an "ERROR: …" string where Go refuses it. */
export function goParseDurations(texts: readonly string[]): (number | string)[] {
    binary ??= build();
    const out = execFileSync(binary, { input: texts.map((t) => `${t}\n`).join("") }).toString().trim();
    return out === "" ? [] : out.split("\n").map((line) => line.startsWith("ERROR") ? line : Number(line));
}
