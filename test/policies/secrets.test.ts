import * as assert from "node:assert/strict";
import { grafanaAdminFromSecret, literalCredentialsInValues, noLiteralPasswords } from "../../policies/rules/secrets";
import { checkResource, checkStack } from "./harness";
import { T, grafanaRelease, release, tokenPassword, variant, workloadDeployment } from "./fixtures";

const keyPattern = /(password|passwd|pwd)$|^(secretKey|token)$/i;

describe("policies: secrets", () => {
    describe("literal credentials in Helm values", () => {
        it("finds credential-named keys with literal strings, not references or key names", () => {
            const found = literalCredentialsInValues({
                adminPassword: "admin123",
                admin: { existingSecret: "grafana-admin", passwordKey: "admin-password" },
                minio: { rootUser: "mimir", rootPassword: "s3cr3t-from-code" },
                env: [{ name: "X", token: "${TOKEN}" }],
                datasource: { basicAuthPassword: "$__file{/etc/secrets/pw}" },
                serviceAccount: { automountServiceAccountToken: true },
            }, keyPattern, new Set(["admin123"]));
            assert.deepEqual(found, [
                { path: "values.adminPassword", wellKnown: true },
                { path: "values.minio.rootPassword", wellKnown: false },
            ]);
        });
    });

    describe("no-literal-passwords", () => {
        it("accepts a generated password in values and Secrets without known passwords", async () => {
            const mimir = release("mimir-distributed", { minio: { rootUser: "mimir", rootPassword: "Zq8-generated" } });
            mimir.dependsOn = ["minio-password"];
            const secret = { type: T.secret, name: "grafana-admin", props: { stringData: { "admin-user": "admin", "admin-password": "x7Gk2generated" } } };
            assert.deepEqual(await checkStack(noLiteralPasswords, [
                { type: T.password, name: "minio-password", props: { length: 32 } }, mimir, secret, grafanaRelease(), workloadDeployment(),
            ]), []);
        });

        it("refuses a well-known password even when generated passwords are around", async () => {
            const bad = release("grafana", { adminPassword: "admin123" });
            bad.dependsOn = ["charon-token"];
            const found = await checkStack(noLiteralPasswords, [tokenPassword(), bad]);
            assert.deepEqual(found, [{
                message: "Helm release grafana: values.adminPassword is a well-known password. Generate it with @pulumi/random, store it in a " +
                    "Kubernetes Secret and point the chart at the Secret (e.g. admin.existingSecret).",
                urn: "urn:pulumi:test::charon::kubernetes:helm.sh/v3:Release::grafana",
            }]);
        });

        it("refuses a password written in the code, unless its path is allowed", async () => {
            const bad = release("mimir-distributed", { minio: { rootPassword: "hunter2-in-code" } });
            const found = await checkStack(noLiteralPasswords, [bad]);
            assert.equal(found.length, 1);
            assert.match(found[0].message, /values\.minio\.rootPassword holds a password written in the code\. Generate it with a RandomPassword/);
            assert.deepEqual(await checkStack(noLiteralPasswords, [bad], { allowedPaths: ["values.minio.rootPassword"] }), []);
        });

        it("refuses well-known passwords in Secrets (stringData and base64 data) and literal credentials in pod env", async () => {
            const secret = { type: T.secret, name: "s", props: { stringData: { password: "ChangeMe" }, data: { "admin-password": Buffer.from("prom-operator").toString("base64"), "admin-user": Buffer.from("admin").toString("base64") } } };
            const pod = variant(workloadDeployment(), (p) => {
                p.spec.template.spec.containers[0].env = [
                    { name: "DB_PASSWORD", value: "hunter2" },
                    { name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "api", key: "token" } } },
                    { name: "LOG_LEVEL", value: "debug" },
                ];
            });
            const found = (await checkStack(noLiteralPasswords, [secret, pod])).map((f) => f.message);
            assert.deepEqual(found, [
                "Secret s key password holds a well-known password. Generate it with @pulumi/random (RandomPassword).",
                "Secret s key admin-password holds a well-known password. Generate it with @pulumi/random (RandomPassword).",
                "consumer containers[0] (consumer) env DB_PASSWORD holds a literal credential. Read it from a Secret with valueFrom.secretKeyRef.",
            ]);
        });

        it("takes extra well-known passwords from its configuration", async () => {
            const secret = { type: T.secret, name: "s", props: { stringData: { password: "charon2024" } } };
            assert.deepEqual(await checkStack(noLiteralPasswords, [secret]), []);
            assert.equal((await checkStack(noLiteralPasswords, [secret], { wellKnownPasswords: ["charon2024"] })).length, 1);
        });
    });

    describe("grafana-admin-from-secret", () => {
        it("accepts admin.existingSecret without adminPassword", async () => {
            assert.deepEqual(await checkResource(grafanaAdminFromSecret, grafanaRelease()), []);
            assert.deepEqual(await checkResource(grafanaAdminFromSecret, release("alloy", {})), []);
        });

        it("refuses adminPassword and a missing existingSecret, also inside an umbrella chart", async () => {
            const bad = release("grafana", { adminPassword: "admin123", service: { type: "NodePort", nodePort: 30080 } });
            assert.deepEqual(await checkResource(grafanaAdminFromSecret, bad), [
                "values.adminPassword is set: the password lands in the release's values in plain text. " +
                "Remove it and set values.admin.existingSecret to a Secret holding a generated password.",
                "values.admin.existingSecret is not set, so the chart generates or defaults the admin password outside Pulumi. " +
                "Create a Secret from a RandomPassword and set values.admin.existingSecret (with userKey/passwordKey).",
            ]);
            const umbrella = release("kube-prometheus-stack", { grafana: { adminPassword: "x" } });
            const msgs = await checkResource(grafanaAdminFromSecret, umbrella);
            assert.equal(msgs.length, 2);
            assert.match(msgs[0], /^values\.grafana\.adminPassword is set/);
        });
    });
});
