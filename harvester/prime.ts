/**
 * The hot loops' JIT priming, run once per thread before its first harvest (not at import, so importing the harvester
 * costs nothing): each runs a few tiny inputs so V8 optimizes with feedback for every shape a harvest meets.
 */
import { primeJsonScan } from "./json-scan";
import { primeXorDecoder } from "./remote-read/xor";
import { primeCsvRows } from "./writers/csv";

export function primeHotPaths(): void {
    primeJsonScan();
    primeCsvRows();
    primeXorDecoder();
}
