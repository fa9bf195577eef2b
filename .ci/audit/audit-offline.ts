/**
 * `npm run audit:offline`: the dependency audit that works without the advisory endpoint.
 *
 * It compares every package in package-lock.json with the advisory snapshot committed in
 * .ci/audit/advisories.json (npm's bulk-advisory format, with the date it was taken), and checks that
 * Electron is on a supported major (the three newest stable majors, as recorded in the snapshot).
 * An advisory of moderate severity or above on a package the app ships (not a dev dependency)
 * fails; on a dev-only package it is listed. A snapshot older than 60 days is reported as stale.
 *
 * `npm run audit:offline -- --update`, where the npm registry's advisory endpoint answers (it
 * does not from every sandbox), replaces the snapshot's advisories with the registry's answer for
 * exactly the packages and versions in the lockfile, and stamps today's date. The scheduled
 * workflow .github/workflows/audit.yml does that weekly and runs `npm audit` beside it.
 *
 * Prints its findings, then one JSON line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

interface Advisory {
  id: string;
  title: string;
  severity: 'low' | 'moderate' | 'high' | 'critical';
  vulnerable_versions: string;
  url: string;
}
interface Snapshot {
  taken: string;
  source: string;
  electron: { supportedMajors: number[]; latest: string; checked: string };
  advisories: Record<string, Advisory[]>;
}
interface LockEntry {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  link?: boolean;
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const option = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
// Other files than the repository's, for tests: --lockfile FILE --snapshot FILE --today YYYY-MM-DD.
const snapshotFile = path.resolve(option('--snapshot') ?? path.join(root, '.ci/audit/advisories.json'));
const lock = JSON.parse(
  fs.readFileSync(path.resolve(option('--lockfile') ?? path.join(root, 'package-lock.json')), 'utf8'),
) as {
  packages: Record<string, LockEntry>;
};

/** name → versions in the lockfile, and whether any copy of that version ships in the app. */
function inventory(): Map<string, Map<string, { shipped: boolean }>> {
  const out = new Map<string, Map<string, { shipped: boolean }>>();
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (!where || entry.link || !entry.version) continue;
    const name = where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const versions = out.get(name) ?? new Map<string, { shipped: boolean }>();
    const shipped = !entry.dev && !entry.devOptional;
    versions.set(entry.version, { shipped: shipped || (versions.get(entry.version)?.shipped ?? false) });
    out.set(name, versions);
  }
  return out;
}

const SEVERE = new Set(['moderate', 'high', 'critical']);
const today = option('--today') ?? new Date().toISOString().slice(0, 10);

async function update(): Promise<void> {
  const body: Record<string, string[]> = {};
  for (const [name, versions] of inventory()) body[name] = [...versions.keys()];
  const res = await fetch('https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    console.error(
      `audit: the registry's advisory endpoint answered ${res.status}; the snapshot was left as it was (taken ${readSnapshot().taken}).`,
    );
    process.exit(2);
  }
  const answer = (await res.json()) as Record<string, (Advisory & { id: number | string })[]>;
  const electron = (await (await fetch('https://registry.npmjs.org/electron')).json()) as {
    'dist-tags': { latest: string };
  };
  const latest = electron['dist-tags'].latest;
  const major = semver.major(latest);
  const snapshot: Snapshot = {
    taken: today,
    source: 'npm registry bulk advisory endpoint (npm audit), via npm run audit:offline -- --update',
    electron: { supportedMajors: [major - 2, major - 1, major], latest, checked: today },
    advisories: Object.fromEntries(
      Object.entries(answer).map(([name, list]) => [
        name,
        list.map((a) => ({
          id: String(a.url?.split('/').pop() ?? a.id),
          title: a.title,
          severity: a.severity,
          vulnerable_versions: a.vulnerable_versions,
          url: a.url,
        })),
      ]),
    ),
  };
  fs.writeFileSync(snapshotFile, `${JSON.stringify(snapshot, null, 2)}\n`);
  console.log(
    `audit: snapshot updated (${Object.keys(snapshot.advisories).length} packages with advisories).`,
  );
}

function readSnapshot(): Snapshot {
  return JSON.parse(fs.readFileSync(snapshotFile, 'utf8')) as Snapshot;
}

function check(): number {
  const snapshot = readSnapshot();
  const packages = inventory();
  const failures: string[] = [];
  const notes: string[] = [];
  for (const [name, advisories] of Object.entries(snapshot.advisories)) {
    for (const [version, { shipped }] of packages.get(name) ?? []) {
      for (const a of advisories) {
        if (!semver.satisfies(version, a.vulnerable_versions, { includePrerelease: true })) continue;
        const line = `${name}@${version} (${shipped ? 'shipped' : 'dev only'}): ${a.severity} ${a.id} ${a.title} — ${a.url}`;
        if (shipped && SEVERE.has(a.severity)) failures.push(line);
        else notes.push(line);
      }
    }
  }
  const electronVersion = [...(packages.get('electron')?.keys() ?? [])][0];
  const electronMajor = electronVersion ? semver.major(electronVersion) : null;
  if (electronMajor !== null && !snapshot.electron.supportedMajors.includes(electronMajor)) {
    failures.push(
      `electron@${electronVersion}: major ${electronMajor} is not supported (supported: ${snapshot.electron.supportedMajors.join(', ')} as of ${snapshot.electron.checked}); move to a supported major.`,
    );
  } else if (
    electronVersion &&
    semver.lt(electronVersion, snapshot.electron.latest) &&
    semver.major(snapshot.electron.latest) === electronMajor
  ) {
    notes.push(
      `electron@${electronVersion}: ${snapshot.electron.latest} is out (same major); patch releases carry security fixes.`,
    );
  }
  const ageDays = Math.floor((Date.parse(today) - Date.parse(snapshot.taken)) / 86_400_000);
  if (!(ageDays <= 60))
    notes.push(
      `the advisory snapshot is ${ageDays} days old (taken ${snapshot.taken}): run \`npm run audit:offline -- --update\` where the registry's advisory endpoint answers.`,
    );
  for (const f of failures) console.log(`! ${f}`);
  for (const n of notes) console.log(`  ${n}`);
  console.log(
    `audit: ${packages.size} packages in package-lock.json against ${Object.keys(snapshot.advisories).length} packages with advisories (snapshot of ${snapshot.taken}, ${ageDays} days old); ` +
      `Electron ${electronVersion} (supported majors ${snapshot.electron.supportedMajors.join(', ')}); ${failures.length} failing, ${notes.length} noted.`,
  );
  console.log(
    JSON.stringify({
      audit: 'offline',
      snapshot: snapshot.taken,
      snapshotAgeDays: ageDays,
      packages: packages.size,
      electron: electronVersion,
      failing: failures.length,
      noted: notes.length,
    }),
  );
  return failures.length > 0 ? 1 : 0;
}

if (process.argv.includes('--update')) await update();
else process.exitCode = check();
