/**
 * PromQL in tests, checked by the real thing: Prometheus's own parser (promtool, from Debian's prometheus package)
 * decides what is valid, and @prometheus-io/lezer-promql (the parser of Prometheus's UI) finds the metric names.
 * Grafana template variables are substituted first, the way Grafana does before it sends a query.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { parser } from "@prometheus-io/lezer-promql";
import { requireTool } from "./tools";


/** Grafana's variables replaced by values of the same type: ranges by a duration, others by a regex or label. */
export function withoutGrafanaVariables(expr: string): string {
    return expr
        .replace(/\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g, "5m")
        .replace(/\$\{?__[a-z_]+\}?/g, "1")
        .replace(/"([^"]*)\$\{?[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}?([^"]*)"/g, (_m, a, _f, b) => `"${a}.*${b}"`)
        .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, "x");
}

/**
 * Prometheus's verdict on each expression: undefined when it parses, else Prometheus's own error text. One
 * promtool run for all of them (each becomes a recording rule).
 */
export function prometheusErrors(exprs: readonly string[]): (string | undefined)[] {
    const promtool = requireTool("promtool");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promql-"));
    try {
        const file = path.join(dir, "rules.yml");
        fs.writeFileSync(file, yaml.dump({ groups: [{ name: "check", rules: exprs.map((expr, i) => ({ record: `r${i}`, expr })) }] }));
        const run = spawnSync(promtool, ["check", "rules", file], { encoding: "utf8" });
        const errors: (string | undefined)[] = exprs.map(() => undefined);
        for (const m of `${run.stdout}${run.stderr}`.matchAll(/rule (\d+), "r\d+": (.*)$/gm)) {
            errors[Number(m[1]) - 1] = m[2];
        }
        if (run.status !== 0 && errors.every((e) => e === undefined)) {
            throw new Error(`promtool check rules failed without naming a rule: ${run.stdout}${run.stderr}`);
        }
        return errors;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The metric names an expression selects (`name{…}` and `{__name__="name"}`), sorted and unique. */
export function metricNames(expr: string): string[] {
    const names = new Set<string>();
    const tree = parser.parse(expr);
    tree.iterate({
        enter: (node) => {
            if (node.name === "VectorSelector") {
                const id = node.node.getChild("Identifier");
                if (id) {
                    names.add(expr.slice(id.from, id.to));
                }
                for (const matcher of [...node.node.getChildren("LabelMatchers").flatMap((m) => [...m.getChildren("UnquotedLabelMatcher"), ...m.getChildren("QuotedLabelMatcher")])]) {
                    const label = matcher.getChild("LabelName") ?? matcher.getChild("QuotedLabelName");
                    const value = matcher.getChild("StringLiteral");
                    const op = matcher.getChild("MatchOp");
                    if (label && value && op && expr.slice(label.from, label.to).replace(/"/g, "") === "__name__" && expr.slice(op.from, op.to) === "=") {
                        names.add(JSON.parse(expr.slice(value.from, value.to).replace(/^'|'$/g, "\"")));
                    }
                }
            }
        },
    });
    return [...names].sort();
}
