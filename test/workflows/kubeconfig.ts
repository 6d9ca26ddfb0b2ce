/** A minimal kubeconfig (one cluster, context and user) for harvest tests. */
export function kubeconfigYaml(server: string, user: Record<string, string>, cluster: Record<string, unknown> = {}): string {
    const userLines = Object.entries(user).map(([k, v]) => `    ${k}: ${v}`).join("\n");
    const clusterLines = Object.entries(cluster).map(([k, v]) => `    ${k}: ${v}`).join("\n");
    return `apiVersion: v1
kind: Config
clusters:
- name: charon
  cluster:
    server: ${server}
${clusterLines}
contexts:
- name: charon
  context:
    cluster: charon
    user: admin
current-context: charon
users:
- name: admin
  user:
${userLines}
`;
}
