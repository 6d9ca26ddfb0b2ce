/**
 * Types for snappyjs (raw snappy block format), which ships without them. A type root (tsconfig `typeRoots` and
 * `types`), not a file found through `include`: ts-node, which compiles the program under `pulumi up`, loads no
 * `include`d files, only what imports and the `types` option reach.
 */
declare module "snappyjs" {
    export function compress<T extends Uint8Array | ArrayBuffer | Buffer>(input: T): T;
    export function uncompress<T extends Uint8Array | ArrayBuffer | Buffer>(input: T, maxLength?: number): T;
}
