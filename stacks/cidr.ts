/** IPv4 CIDR parsing and overlap checks for the k3s network settings. */

export interface Ipv4Cidr {
    base: number;
    prefix: number;
}

export function parseCidr(text: string): Ipv4Cidr | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
    if (!match) {
        return undefined;
    }
    const octets = match.slice(1, 5).map(Number);
    const prefix = Number(match[5]);
    if (octets.some((o) => o > 255) || prefix > 32) {
        return undefined;
    }
    const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if ((address & mask) >>> 0 !== address) {
        return undefined; // host bits set: 10.31.0.1/16 is an address, not a network
    }
    return { base: address, prefix };
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
    const prefix = Math.min(a.prefix, b.prefix);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return ((a.base & mask) >>> 0) === ((b.base & mask) >>> 0);
}
