/** The GPU layer's settings model (`charon:gpu`). */
import { Enum, type Static, Type } from "../../model/schema";

export const GpuSettingsSchema = Type.Object({
    stack: Enum(["auto", "on", "off"] as const, {
        default: "auto", description: "auto installs the GPU stack when some host has (or may have) a GPU.",
    }),
}, { additionalProperties: false, default: {}, description: "NVIDIA device plugin and DCGM exporter." });

export type GpuSettings = Static<typeof GpuSettingsSchema>;
