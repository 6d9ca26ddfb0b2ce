import * as assert from "node:assert/strict";
import fc from "fast-check";
import { formatDuration, formatGoDuration, parseDuration, parseDurationOrSeconds } from "../../model/formats/duration";
import { isCpuQuantity, isMemoryQuantity, milliCores, parseQuantity } from "../../model/formats/quantity";
import { networksOverlap, parseIpv4Network } from "../../model/formats/network";
import { isKubeletReservedLabel, isPinnedImage } from "../../model/formats/names";
import { goParseDurations } from "../helpers/go-duration";
import { prometheusErrors } from "../helpers/promql";

describe("model/formats: one grammar per value format", () => {
    describe("durations (Prometheus form)", () => {
        it("reads every unit, combined in order", () => {
            assert.equal(parseDuration("1y2w3d4h5m6s7ms"), 365 * 86_400_000 + 2 * 7 * 86_400_000 + 3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000 + 6000 + 7);
            assert.equal(parseDuration("1m30s"), 90_000);
            assert.equal(parseDuration("1d"), 86_400_000);
            assert.equal(parseDuration("0"), 0);
        });

        it("refuses what Prometheus refuses: decimals, spaces, wrong order, empty", () => {
            for (const bad of ["1.5h", "2 s", "30s1m", "", "s", "1h1h", "-5m"]) {
                assert.equal(parseDuration(bad), undefined, bad);
            }
        });

        it("the API form also takes plain seconds", () => {
            assert.equal(parseDurationOrSeconds("15"), 15_000);
            assert.equal(parseDurationOrSeconds("0.5"), 500);
            assert.equal(parseDurationOrSeconds("2m"), 120_000);
        });

        it("agrees with Prometheus on what is a duration (promtool reads each in a range selector)", () => {
            const samples = ["1y2w3d4h5m6s7ms", "1m30s", "1d", "90s", "500ms", "1.5h", "30s1m", "2 s"];
            const verdicts = prometheusErrors(samples.map((d) => `rate(up[${d}])`));
            samples.forEach((d, i) => assert.equal(verdicts[i] === undefined, parseDuration(d) !== undefined && parseDuration(d)! > 0, `${d}: ${verdicts[i]}`));
        });

        it("renders back in Prometheus form and in Go's, and both read back to the same length (property)", () => {
            const lengths: number[] = [];
            fc.assert(fc.property(fc.integer({ min: 0, max: 400 * 86_400_000 }), (ms) => {
                assert.equal(parseDuration(formatDuration(ms)), ms);
                lengths.push(ms);
            }), { numRuns: 200 });
            assert.deepEqual(goParseDurations(lengths.map(formatGoDuration)), lengths);
            assert.equal(formatGoDuration(86_400_000), "24h");
            assert.equal(formatDuration(90_000), "1m30s");
        });
    });

    describe("Kubernetes quantities", () => {
        it("reads binary and decimal suffixes and exponents", () => {
            assert.equal(parseQuantity("512Mi"), 512 * 2 ** 20);
            assert.equal(parseQuantity("3G"), 3e9);
            assert.equal(parseQuantity("500m"), 0.5);
            assert.equal(parseQuantity("1e3"), 1000);
            assert.equal(parseQuantity("1.5Gi"), 1.5 * 2 ** 30);
            assert.equal(parseQuantity("12 Mi"), undefined);
            assert.equal(parseQuantity("Mi"), undefined);
        });

        it("memory has no milli-bytes; CPU keeps at most millicores", () => {
            assert.ok(isMemoryQuantity("4Gi") && !isMemoryQuantity("100m") && !isMemoryQuantity("-1Gi"));
            assert.ok(isCpuQuantity("250m") && isCpuQuantity("2") && isCpuQuantity("0.5") && !isCpuQuantity("0.0005") && !isCpuQuantity("10u"));
            assert.equal(milliCores("1.5"), 1500);
        });
    });

    describe("IPv4 networks (ipaddr.js)", () => {
        it("reads networks and refuses addresses with host bits, out-of-range parts and IPv6", () => {
            assert.equal(parseIpv4Network("10.31.0.0/16")?.prefix, 16);
            for (const bad of ["10.31.0.1/16", "10.31.0.0/33", "256.0.0.0/8", "fd00::/8", "10.31.0.0"]) {
                assert.equal(parseIpv4Network(bad), undefined, bad);
            }
        });

        it("tells overlapping networks apart from disjoint ones", () => {
            const n = (t: string) => parseIpv4Network(t)!;
            assert.ok(networksOverlap(n("10.0.0.0/8"), n("10.32.0.0/16")));
            assert.ok(!networksOverlap(n("10.31.0.0/16"), n("10.32.0.0/16")));
        });
    });

    describe("names and images", () => {
        it("pinned images need a tag other than latest/dev, or a digest", () => {
            assert.ok(isPinnedImage("docker.io/library/node:22.22.0-alpine3.23"));
            assert.ok(isPinnedImage(`registry:5000/x@sha256:${"a".repeat(64)}`));
            assert.ok(!isPinnedImage("node") && !isPinnedImage("node:latest") && !isPinnedImage("registry:5000/x"));
        });

        it("node labels the kubelet reserves", () => {
            assert.ok(isKubeletReservedLabel("node-role.kubernetes.io/worker"));
            assert.ok(!isKubeletReservedLabel("node.kubernetes.io/pool") && !isKubeletReservedLabel("example.com/zone"));
        });
    });
});
