/**
 * Downloads a URL synchronously (a child Node process runs fetch): settings, and what they name, are read before
 * the program declares anything, and the program itself is synchronous.
 */
import { spawnSync } from "node:child_process";

const script = `
fetch(process.argv[1], { redirect: "follow", signal: AbortSignal.timeout(Number(process.argv[2])) })
  .then(async (r) => {
    if (!r.ok) { process.stderr.write("HTTP " + r.status + " " + r.statusText); process.exit(3); }
    process.stdout.write(Buffer.from(await r.arrayBuffer()));
  })
  .catch((e) => { process.stderr.write(String(e.cause?.message ?? e.message)); process.exit(4); });
`;

/** The body of `url`, or an Error naming the URL and why it could not be read. */
export function fetchSync(url: string, timeoutMs = 60_000): Buffer {
    const run = spawnSync(process.execPath, ["-e", script, url, String(timeoutMs)], { maxBuffer: 256 * 2 ** 20 });
    if (run.status !== 0) {
        throw new Error(`could not download ${url}: ${run.stderr.toString().trim() || `exit ${run.status}`}`);
    }
    return run.stdout;
}
