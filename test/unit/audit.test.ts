import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/env.ts';

/** The offline audit against a lockfile and snapshot made here. */
function audit(packages: Record<string, object>, snapshot: object, today = '2026-12-03') {
  const dir = tempDir('earshot-audit-');
  fs.writeFileSync(path.join(dir, 'lock.json'), JSON.stringify({ packages: { '': {}, ...packages } }));
  fs.writeFileSync(path.join(dir, 'snap.json'), JSON.stringify(snapshot));
  return new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(
      process.execPath,
      [
        path.join(repoRoot, '.ci/audit/audit-offline.ts'),
        '--lockfile',
        path.join(dir, 'lock.json'),
        '--snapshot',
        path.join(dir, 'snap.json'),
        '--today',
        today,
      ],
      (err, stdout) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
    ),
  );
}

const snapshot = {
  taken: '2026-12-01',
  source: 'test',
  electron: { supportedMajors: [43, 44, 45], latest: '45.5.0', checked: '2026-12-01' },
  advisories: {
    ws: [
      {
        id: 'GHSA-3h5v-q93c-6h6q',
        title: 'ws DoS',
        severity: 'high',
        vulnerable_versions: '>=8.0.0 <8.17.1',
        url: 'u',
      },
    ],
    tmp: [{ id: 'GHSA-x', title: 'tmp', severity: 'low', vulnerable_versions: '<=0.2.3', url: 'u' }],
  },
};

describe('offline dependency audit', () => {
  it('fails on an advisory against a package the app ships, and passes a patched one', async () => {
    const bad = await audit(
      { 'node_modules/ws': { version: '8.2.0' }, 'node_modules/electron': { version: '45.5.0', dev: true } },
      snapshot,
    );
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('! ws@8.2.0 (shipped): high GHSA-3h5v-q93c-6h6q ws DoS');
    const good = await audit(
      { 'node_modules/ws': { version: '8.18.3' }, 'node_modules/electron': { version: '45.5.0', dev: true } },
      snapshot,
    );
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout.trim().split('\n').at(-1)!)).toMatchObject({ failing: 0, packages: 2 });
  });

  it('lists dev-only and low findings without failing; nested copies count', async () => {
    const r = await audit(
      {
        'node_modules/vitest/node_modules/ws': { version: '8.0.0', dev: true },
        'node_modules/a/node_modules/tmp': { version: '0.2.1' },
        'node_modules/electron': { version: '45.4.1', dev: true },
      },
      snapshot,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  ws@8.0.0 (dev only): high');
    expect(r.stdout).toContain('  tmp@0.2.1 (shipped): low');
    expect(r.stdout).toContain('electron@45.4.1: 45.5.0 is out (same major)');
  });

  it('keeps Electron on a supported major, and says when the snapshot is stale', async () => {
    const old = await audit(
      { 'node_modules/electron': { version: '41.2.0', dev: true } },
      snapshot,
      '2027-03-01',
    );
    expect(old.code).toBe(1);
    expect(old.stdout).toContain('! electron@41.2.0: major 41 is not supported (supported: 43, 44, 45');
    expect(old.stdout).toMatch(/the advisory snapshot is 90 days old/);
  });

  it("passes on this repository's own lockfile and snapshot", async () => {
    const r = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(process.execPath, [path.join(repoRoot, '.ci/audit/audit-offline.ts')], (err, stdout) =>
        resolve({ code: err ? 1 : 0, stdout }),
      ),
    );
    expect(r.stdout).toMatch(/0 failing/);
    expect(r.code).toBe(0);
  });
});
