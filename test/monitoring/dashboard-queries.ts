/** The PromQL a Grafana dashboard runs, for the checks against Prometheus. */

/** One query a dashboard runs. */
export interface DashboardQuery {
    /** Where it is, for error messages: "panel 3 \"CPU\" target A" or "variable vertex". */
    where: string;
    /** PromQL expression (for label_values variables: the series selector). */
    expr: string;
}

/** All panels, including those nested in collapsed rows. */
export function dashboardPanels(dashboard: Record<string, any>): Record<string, any>[] {
    const out: Record<string, any>[] = [];
    for (const p of dashboard.panels ?? []) {
        out.push(p);
        for (const nested of p.panels ?? []) {
            out.push(nested);
        }
    }
    return out;
}

/**
 * The PromQL a dashboard runs: every panel target's expr, and the series selector or expression inside template
 * variable queries (label_values(<selector>, label), query_result(<expr>)).
 */
export function dashboardQueries(dashboard: Record<string, any>): DashboardQuery[] {
    const queries: DashboardQuery[] = [];
    for (const panel of dashboardPanels(dashboard)) {
        for (const target of panel.targets ?? []) {
            if (typeof target.expr === "string") {
                queries.push({ where: `panel ${panel.id} ${JSON.stringify(panel.title)} target ${target.refId}`, expr: target.expr });
            }
        }
    }
    for (const variable of dashboard.templating?.list ?? []) {
        if (variable.type !== "query") {
            continue;
        }
        const text: string = typeof variable.query === "string" ? variable.query : variable.query?.query ?? "";
        const labelValues = /^\s*label_values\(\s*(.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/s.exec(text);
        const queryResult = /^\s*query_result\(\s*(.+)\s*\)\s*$/s.exec(text);
        if (labelValues) {
            queries.push({ where: `variable ${variable.name}`, expr: labelValues[1] });
        } else if (queryResult) {
            queries.push({ where: `variable ${variable.name}`, expr: queryResult[1] });
        } else if (!/^\s*label_values\(\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/.test(text)) {
            // label_values(label) names no metric; anything else is a query we cannot check.
            queries.push({ where: `variable ${variable.name}`, expr: text });
        }
    }
    return queries;
}
