/**
 * `npm run test:electron`: Doyensec's Electronegativity over the built app (out/: main, preload,
 * renderer), offline. Fails on any HIGH or MEDIUM finding that is not in
 * electron/electronegativity-reviewed.json, where each accepted finding names its check, file and
 * code, and says why it is safe; a reviewed finding that no longer appears fails too (the list
 * stays true). Prints every finding, then one JSON line.
 *
 * Offline: the one check that downloads Electron's release list
 * (AvailableSecurityFixesGlobalCheck) is left out; the Electron version is the installed one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

interface Issue {
  id: string;
  file: string;
  location: { line: number; column: number };
  sample?: string;
  description: string;
  severity: { name: string; value: number };
  confidence: { name: string };
  manualReview?: boolean;
}
interface Reviewed {
  check: string;
  file: string;
  sample: string;
  why: string;
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const input = path.resolve(process.argv[2] ?? path.join(root, 'out'));
if (!fs.existsSync(path.join(input, 'main', 'index.js'))) {
  console.error(`electronegativity: no built app at ${input}; run \`npm run build\` first.`);
  process.exit(2);
}
const electronVersion = (require('electron/package.json') as { version: string }).version;
const run = require('@doyensec/electronegativity') as (
  options: Record<string, unknown>,
  forCli: boolean,
) => Promise<{
  globalChecks: number;
  atomicChecks: number;
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: Issue[];
}>;

// It logs a warning when it cannot fetch translations: that is the network it does not need.
const log = console.log;
console.log = () => undefined;
let result: Awaited<ReturnType<typeof run>>;
try {
  result = await run(
    {
      input,
      customScan: [],
      excludeFromScan: ['availablesecurityfixesglobalcheck'],
      isRelative: true,
      isVerbose: false,
      electronVersionOverride: electronVersion,
      parserPlugins: [],
    },
    false,
  );
} finally {
  console.log = log;
}

const reviewed = JSON.parse(
  fs.readFileSync(path.join(root, 'electron/electronegativity-reviewed.json'), 'utf8'),
) as Reviewed[];
/** The line of code a finding points at (the bundle's line numbers change with every edit). */
const codeAt = (i: Issue) => {
  try {
    return fs.readFileSync(path.join(input, i.file), 'utf8').split('\n')[i.location.line - 1]?.trim() ?? '';
  } catch {
    return i.sample ?? '';
  }
};
const same = (r: Reviewed, i: Issue) => r.check === i.id && r.file === i.file && codeAt(i).includes(r.sample);
const serious = result.issues.filter((i) => i.severity.value >= 2);
const unreviewed = serious.filter((i) => !reviewed.some((r) => same(r, i)));
const stale = reviewed.filter((r) => !serious.some((i) => same(r, i)));
const hardErrors = result.errors.filter((e) => !e.tolerable);

for (const i of result.issues) {
  const mark = i.severity.value < 2 ? ' ' : reviewed.some((r) => same(r, i)) ? 'R' : '!';
  log(
    `${mark} ${i.severity.name}/${i.confidence.name} ${i.id} ${i.file}:${i.location.line} ${i.description}: ${codeAt(i).slice(0, 120)}`,
  );
}
for (const e of hardErrors) log(`! could not parse ${e.file}: ${e.message}`);
for (const r of stale)
  log(`! reviewed finding no longer reported (remove it from the list): ${r.check} ${r.file} ${r.sample}`);
log(
  `Electronegativity (Electron ${electronVersion}): ${result.atomicChecks + result.globalChecks} checks, ${result.issues.length} findings, ` +
    `${serious.length} high or medium (${serious.length - unreviewed.length} reviewed), ${unreviewed.length} unreviewed.`,
);
log(
  JSON.stringify({
    electronegativity: electronVersion,
    findings: result.issues.length,
    highOrMedium: serious.length,
    unreviewed: unreviewed.length,
    stale: stale.length,
    parseErrors: hardErrors.length,
  }),
);
process.exitCode = unreviewed.length || stale.length || hardErrors.length ? 1 : 0;
