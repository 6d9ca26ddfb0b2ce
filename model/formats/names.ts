/** Kubernetes names and labels, and container image references. */

export const dnsLabelPattern = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";
export const dnsLabelHint = "a DNS label (lower-case letters, digits, -)";

export const labelKeyPattern = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
export const labelKeyHint = "a Kubernetes label key such as example.com/zone";
export const labelValuePattern = "^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$";
export const labelValueHint = "a Kubernetes label value (≤ 63 characters of letters, digits, -, _ and .)";

/** An image reference with a tag, a digest, or both (registry ports are allowed: host:5000/name:tag). */
export const imageReferencePattern = "^([^\\s/:@]+(:[0-9]+)?/)?[^\\s:@]+(:[\\w][\\w.-]{0,127}(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$";
export const imageReferenceHint = "an image reference with a tag or digest: repo/name:tag or repo/name@sha256:<digest>";

/** Whether an image reference names an explicit tag other than latest/dev, or a digest. */
export function isPinnedImage(image: string): boolean {
    if (!new RegExp(imageReferencePattern).test(image)) {
        return false;
    }
    if (/@sha256:[a-f0-9]{64}$/.test(image)) {
        return true;
    }
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    const colon = lastSegment.indexOf(":");
    const tag = colon < 0 ? "" : lastSegment.slice(colon + 1);
    return tag !== "" && tag !== "latest" && tag !== "dev";
}

/** Kubelet refuses node labels in these namespaces except under the prefixes and keys it allows itself. */
const kubeletLabelPrefixes = ["kubelet.kubernetes.io/", "node.kubernetes.io/"];
const kubeletLabelKeys = ["kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os", "topology.kubernetes.io/region", "topology.kubernetes.io/zone"];

/** A node label key in a namespace the kubelet reserves (kubernetes.io, k8s.io) that it would refuse to set. */
export function isKubeletReservedLabel(key: string): boolean {
    const slash = key.indexOf("/");
    if (slash < 0) {
        return false;
    }
    const reserved = /(^|\.)kubernetes\.io$|(^|\.)k8s\.io$/.test(key.slice(0, slash));
    return reserved && !kubeletLabelKeys.includes(key) && !kubeletLabelPrefixes.some((p) => key.startsWith(p));
}
