/** Types for snappyjs (raw snappy block format), which ships without them. */
declare module "snappyjs" {
    export function compress<T extends Uint8Array | ArrayBuffer | Buffer>(input: T): T;
    export function uncompress<T extends Uint8Array | ArrayBuffer | Buffer>(input: T, maxLength?: number): T;
}
