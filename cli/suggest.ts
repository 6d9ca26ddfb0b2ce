/** "Did you mean …?" for misspelled names: the closest known name by edit distance, when it is close enough. */

function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const here = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = here;
        }
    }
    return row[b.length];
}

/** The closest of `known` to `name` when it is a plausible typo (a few edits away), else undefined. */
export function closest(name: string, known: string[]): string | undefined {
    const scored = known.map((k) => ({ k, d: distance(name, k) })).sort((x, y) => x.d - y.d);
    return scored.length > 0 && scored[0].d <= Math.max(2, Math.floor(name.length / 5)) ? scored[0].k : undefined;
}
