// One pull-request comment per stack with its preview (created once, then updated on every push), and the same text in
// the job summary. Called by actions/github-script from pull-request.yml:
//   require("./.github/scripts/preview-comment.js")({ github, context, core }, { stack, output, outcome })
// `output` is the file the preview's stdout and stderr were written to; the report at its end (resources, policy
// violations and how to waive one, or why it failed) goes first, the whole output folded below it.
const fs = require("node:fs");

const LIMIT = 60000; // GitHub refuses comments over 65536 characters

function report(text) {
    const lines = text.split("\n");
    const start = lines.findIndex((l) => /^(Resources:|Policy violations|charon: .* failed on stack|Pulumi\.[^ ]+: \d+ problems?)/.test(l));
    return (start < 0 ? lines.slice(-15) : lines.slice(start)).join("\n").trim();
}

function body(stack, text, outcome) {
    const marker = `<!-- charon-preview:${stack} -->`;
    const full = text.length > LIMIT ? `… (the first ${text.length - LIMIT} characters are in the job log)\n${text.slice(-LIMIT)}` : text;
    return [
        marker,
        `### \`npm run preview -- --stack ${stack}\`: ${outcome === "success" ? "succeeded" : "failed"}`,
        "",
        "````",
        report(text) || "(no output)",
        "````",
        "",
        "<details><summary>Whole preview</summary>",
        "",
        "````",
        full.trim(),
        "````",
        "</details>",
    ].join("\n");
}

module.exports = async ({ github, context, core }, { stack, output, outcome }) => {
    const text = fs.existsSync(output) ? fs.readFileSync(output, "utf8") : "";
    const comment = body(stack, text, outcome);
    await core.summary.addRaw(comment).write();
    const marker = comment.split("\n")[0];
    const issue = { owner: context.repo.owner, repo: context.repo.repo, issue_number: context.issue.number };
    const existing = (await github.paginate(github.rest.issues.listComments, { ...issue, per_page: 100 }))
        .find((c) => typeof c.body === "string" && c.body.startsWith(marker));
    if (existing) {
        await github.rest.issues.updateComment({ owner: issue.owner, repo: issue.repo, comment_id: existing.id, body: comment });
    } else {
        await github.rest.issues.createComment({ ...issue, body: comment });
    }
};

module.exports.body = body;
module.exports.report = report;
