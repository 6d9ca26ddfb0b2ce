/** Prometheus sample values as its API and the harvester's files write them: decimal numbers, "NaN", "+Inf", "-Inf". */
export function parseSampleValue(text: string): number {
    if (text === "+Inf" || text === "Inf") {
        return Infinity;
    }
    if (text === "-Inf") {
        return -Infinity;
    }
    return Number(text);
}
