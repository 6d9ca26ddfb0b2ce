import { strict as assert } from "node:assert";
import { formatDuration, parseDuration, parseTime, promSeconds } from "../../harvester/time";

describe("harvester/time", () => {
    const now = Date.UTC(2024, 5, 1, 12, 0, 0);

    it("parses Prometheus durations and plain seconds", () => {
        assert.equal(parseDuration("30s"), 30_000);
        assert.equal(parseDuration("1m30s"), 90_000);
        assert.equal(parseDuration("2h"), 7_200_000);
        assert.equal(parseDuration("500ms"), 500);
        assert.equal(parseDuration("1d"), 86_400_000);
        assert.equal(parseDuration("1w"), 604_800_000);
        assert.equal(parseDuration("15"), 15_000);
        assert.equal(parseDuration("0.5"), 500);
        assert.equal(formatDuration(90_000), "1m30s");
        assert.equal(formatDuration(250), "250ms");
    });

    it("rejects malformed durations with the accepted forms", () => {
        for (const bad of ["", "abc", "5x", "-5s", "1.5m", "s"]) {
            assert.throws(() => parseDuration(bad), /invalid duration/);
        }
    });

    it("parses RFC 3339, unix seconds, now and relative times", () => {
        assert.equal(parseTime("2024-01-01T00:00:00Z", now), Date.UTC(2024, 0, 1));
        assert.equal(parseTime("2024-01-01T02:00:00.250+02:00", now), Date.UTC(2024, 0, 1) + 250);
        assert.equal(parseTime("1704067200", now), Date.UTC(2024, 0, 1));
        assert.equal(parseTime("1704067200.5", now), Date.UTC(2024, 0, 1) + 500);
        assert.equal(parseTime("now", now), now);
        assert.equal(parseTime("-2h", now), now - 7_200_000);
        assert.equal(parseTime("now-30m", now), now - 1_800_000);
        assert.equal(parseTime("now+1h", now), now + 3_600_000);
    });

    it("rejects impossible or unknown times", () => {
        assert.throws(() => parseTime("2024-02-30T00:00:00Z", now), /no such calendar date/);
        assert.throws(() => parseTime("yesterday", now), /invalid time "yesterday"/);
        assert.throws(() => parseTime("now-2x", now), /relative times/);
    });

    it("formats form parameters with millisecond precision", () => {
        assert.equal(promSeconds(1704067200000), "1704067200");
        assert.equal(promSeconds(1704067200005), "1704067200.005");
        assert.equal(promSeconds(500), "0.500");
    });
});
