/** IPv4 networks for the cluster's pod and service ranges, parsed with ipaddr.js. */
import * as ipaddr from "ipaddr.js";

export interface Ipv4Network {
    address: ipaddr.IPv4;
    prefix: number;
}

export const networkHint = "a CIDR such as 10.31.0.0/16 (no host bits set)";

/** The network `text` names, or undefined when it is no IPv4 CIDR or has host bits set (10.31.0.1/16). */
export function parseIpv4Network(text: string): Ipv4Network | undefined {
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(text) || !ipaddr.IPv4.isValidCIDR(text)) {
        return undefined;
    }
    const [address, prefix] = ipaddr.IPv4.parseCIDR(text);
    if (ipaddr.IPv4.networkAddressFromCIDR(text).toString() !== address.toString()) {
        return undefined;
    }
    return { address, prefix };
}

export function networksOverlap(a: Ipv4Network, b: Ipv4Network): boolean {
    return a.address.match(b.address, Math.min(a.prefix, b.prefix));
}
