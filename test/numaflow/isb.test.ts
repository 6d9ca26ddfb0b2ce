import { strict as assert } from "node:assert";
import * as yaml from "js-yaml";
import fc from "fast-check";
import {
    bufferConfig, bufferConfigYaml, isbObject, isbReplaceOnChanges, streamReplicas,
} from "../../components/numaflow";
import { parseDuration } from "../../model/formats/duration";
import { goParseDurations } from "../helpers/go-duration";
import { bufferConfigProblems as checkBufferConfig, isbProblems as validateInterStepBufferService } from "../helpers/numaflow";
import { jetstreamVersion } from "../../components/versions";
import { defaultIsb } from "./fixtures";
import type { IsbSettings } from "../../components/numaflow/settings";

type IsbRetention = IsbSettings["retention"];
type IsbStorage = IsbSettings["storage"];

describe("numaflow ISB bufferConfig", () => {
    const retentions: [IsbRetention, number][] = [["Limits", 0], ["Interest", 1], ["WorkQueue", 2]];
    const storages: [IsbStorage, number][] = [["File", 0], ["Memory", 1]];

    for (const [retention, rCode] of retentions) {
        for (const [storage, sCode] of storages) {
            it(`encodes retention ${retention} as ${rCode} and storage ${storage} as ${sCode}`, () => {
                const settings: IsbSettings = { ...defaultIsb, retention, storage };
                const parsed = yaml.load(bufferConfigYaml(settings)) as any;
                assert.deepEqual(parsed, {
                    stream: {
                        retention: rCode, maxMsgs: 50000, maxAge: "1h", maxBytes: -1, storage: sCode, replicas: 1, duplicates: "100ms",
                    },
                    otBucket: { replicas: 1 },
                    procBucket: { replicas: 1 },
                });
                assert.deepEqual(checkBufferConfig(bufferConfigYaml(settings)), []);
            });
        }
    }

    it("reproduces the original's stream settings (WorkQueue, Memory, 50000 msgs, 1h, unlimited bytes) with the smallest duplicate window", () => {
        assert.equal(bufferConfigYaml(defaultIsb), [
            "stream:",
            "  retention: 2",
            "  maxMsgs: 50000",
            "  maxAge: 1h",
            "  maxBytes: -1",
            "  storage: 1",
            "  replicas: 1",
            "  duplicates: 100ms",
            "otBucket:",
            "  replicas: 1",
            "procBucket:",
            "  replicas: 1",
            "",
        ].join("\n"));
    });

    it("uses 3 stream replicas with 3 JetStream servers and never more than 3", () => {
        assert.equal(bufferConfig({ ...defaultIsb, replicas: 3 }).stream.replicas, 3);
        assert.equal(streamReplicas(1), 1);
        assert.equal(streamReplicas(3), 3);
        assert.equal(streamReplicas(5), 3);
    });

    it("passes limits through unchanged and durations in the Go form Numaflow parses, to the same length (property)", () => {
        const durations = fc.oneof(
            fc.constantFrom("90s", "1h", "72h", "5m", "1d", "1w", "1m30s", "100ms", "2h45m10s500ms"),
            fc.integer({ min: 1, max: 30 * 86_400 }).map((s) => `${s}s`),
        );
        const seen: [string, string][] = [];
        fc.assert(fc.property(
            fc.integer({ min: -1, max: 10_000_000 }), fc.integer({ min: -1, max: 2 ** 40 }), durations, durations,
            fc.constantFrom<1 | 3>(1, 3), fc.constantFrom<IsbRetention>("Limits", "Interest", "WorkQueue"),
            fc.constantFrom<IsbStorage>("File", "Memory"),
            (maxMsgs, maxBytes, maxAge, duplicates, replicas, retention, storage) => {
                const s = { ...defaultIsb, maxMsgs, maxBytes, maxAge, duplicates, replicas, retention, storage };
                const parsed = yaml.load(bufferConfigYaml(s)) as any;
                assert.equal(parsed.stream.maxMsgs, maxMsgs);
                assert.equal(parsed.stream.maxBytes, maxBytes);
                assert.equal(parsed.stream.replicas, replicas);
                seen.push([maxAge, String(parsed.stream.maxAge)], [duplicates, String(parsed.stream.duplicates)]);
                assert.deepEqual(checkBufferConfig(bufferConfigYaml(s)), []);
            }));
        // Go's own parser reads every rendered duration as the length the stack meant.
        const goMs = goParseDurations(seen.map(([, rendered]) => rendered));
        assert.deepEqual(goMs, seen.map(([setting]) => parseDuration(setting)));
    });
});

describe("numaflow InterStepBufferService object", () => {
    it("is the JetStream ISB `default` with the pinned version, resources and persistence from settings", async () => {
        const isb = isbObject({ name: "default", namespace: "default", version: jetstreamVersion, settings: defaultIsb });
        assert.equal(isb.metadata.name, "default");
        assert.equal(isb.spec.jetstream.version, "2.10.29");
        assert.equal(isb.spec.jetstream.replicas, 1);
        assert.deepEqual(isb.spec.jetstream.containerTemplate, {
            resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "1Gi" } },
        });
        assert.deepEqual(isb.spec.jetstream.persistence, { storageClassName: "local-path", accessMode: "ReadWriteOnce", volumeSize: "3Gi" });
        assert.deepEqual(await validateInterStepBufferService(isb), []);
    });

    it("uses the local-volume storage class in local-volumes mode", async () => {
        const isb = isbObject({
            name: "default", namespace: "default", version: jetstreamVersion, settings: { ...defaultIsb, storageMode: "local-volumes", replicas: 3 },
        });
        assert.equal(isb.spec.jetstream.persistence?.storageClassName, "numaflow-isb-local");
        assert.deepEqual(await validateInterStepBufferService(isb), []);
    });

    it("replaces the ISB when bufferConfig or persistence changes", () => {
        assert.ok(isbReplaceOnChanges.includes("spec.jetstream.bufferConfig"));
        assert.ok(isbReplaceOnChanges.includes("spec.jetstream.persistence"));
    });
});
