import { strict as assert } from "node:assert";
import fc from "fast-check";
import { MAX_POINTS_PER_SERIES, planRange, planRawSlices, pointsPerRequest, totalPoints } from "../../harvester/planner";

describe("harvester/planner", () => {
    it("splits a 4 h window at 1 s into requests under the 11,000-point limit", () => {
        const start = Date.UTC(2024, 0, 1);
        const plan = planRange(start, start + 4 * 3600_000, 1000);
        assert.deepEqual(plan.map((r) => r.points), [11_000, 3_401]);
        assert.equal(plan[0].start, start);
        assert.equal(plan[1].start, plan[0].end + 1000);
        assert.equal(plan[1].end, start + 4 * 3600_000);
        // The server's check: (end - start) / step must not exceed 11,000.
        for (const r of plan) {
            assert.ok((r.end - r.start) / 1000 <= MAX_POINTS_PER_SERIES);
        }
    });

    it("honours the sample budget for many series", () => {
        assert.equal(pointsPerRequest({ sampleBudget: 1_000_000, seriesEstimate: 500 }), 2000);
        assert.equal(pointsPerRequest({ sampleBudget: 10, seriesEstimate: 500 }), 1);
        assert.equal(pointsPerRequest({ sampleBudget: 1e9, seriesEstimate: 1 }), MAX_POINTS_PER_SERIES);
    });

    it("property: requests tile exactly the evaluation timestamps of one big request", () => {
        fc.assert(fc.property(
            fc.integer({ min: 0, max: 2e12 }), fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 599_999 }),
            fc.integer({ min: 1, max: 600_000 }), fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 5000 }),
            (start, intervals, extra, step, budget, series) => {
                const end = start + intervals * step + (extra % step);
                fc.pre(intervals / pointsPerRequest({ sampleBudget: budget, seriesEstimate: series }) < 5000);
                const plan = planRange(start, end, step, { sampleBudget: budget, seriesEstimate: series });
                const per = pointsPerRequest({ sampleBudget: budget, seriesEstimate: series });
                assert.equal(plan.reduce((a, r) => a + r.points, 0), totalPoints(start, end, step));
                let expectNext = start;
                for (const r of plan) {
                    assert.equal(r.start, expectNext, "no gap, no overlap");
                    assert.equal(r.end, r.start + (r.points - 1) * step);
                    assert.ok(r.points <= per && r.points <= MAX_POINTS_PER_SERIES);
                    assert.ok(r.points * series <= Math.max(budget, series), "within the sample budget");
                    assert.ok(r.end <= end);
                    expectNext = r.end + step;
                }
                assert.ok(expectNext > end, "covers the window to its end");
            },
        ), { numRuns: 500 });
    });

    it("property: raw slices partition (start-1, end] without overlap", () => {
        fc.assert(fc.property(fc.integer({ min: 0, max: 2e12 }), fc.integer({ min: 0, max: 1e8 }), fc.integer({ min: 1, max: 5e7 }),
            (start, len, slice) => {
                fc.pre(len / slice < 5000);
                const s = planRawSlices(start, start + len, slice);
                assert.equal(s[0].lowerExclusive, start - 1);
                assert.equal(s[s.length - 1].upper, start + len);
                for (let i = 1; i < s.length; i++) {
                    assert.equal(s[i].lowerExclusive, s[i - 1].upper);
                }
                for (const x of s) {
                    assert.ok(x.upper > x.lowerExclusive && x.upper - x.lowerExclusive <= slice);
                }
            }), { numRuns: 300 });
    });
});
