import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadUrl } from '../../electron/scripts/ensure-electron.ts';
import { repoRoot, tempDir } from '../helpers/env.ts';

/**
 * `npm start`'s first step: Electron's program present, or Electron's own installer run, or —
 * when the download cannot happen — one plain paragraph and exit 1 within seconds. Real
 * failures on 127.0.0.1: a port nobody listens on, and a server that accepts and never answers.
 * The installer's cache is an empty folder, so nothing is ever downloaded or unpacked here.
 */
const script = path.join(repoRoot, 'electron/scripts/ensure-electron.ts');

function run(
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script],
      {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, electron_config_cache: tempDir('earshot-electron-cache-'), ...env },
      },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? null) : 0,
          stdout,
          stderr,
          ms: Date.now() - t0,
        }),
    );
  });
}

let silent: http.Server;
let silentUrl = '';
let closedPort = 0;
beforeAll(async () => {
  // Accepts connections, never answers.
  silent = http.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`;
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});
afterAll(async () => {
  silent.closeAllConnections();
  await new Promise<void>((r) => silent.close(() => r()));
});

const installed = fs.existsSync(path.join(repoRoot, 'node_modules/electron/path.txt'));
if (installed)
  console.warn(
    'SKIPPED: Electron is installed in node_modules, so the failed-download paragraph cannot be shown here.',
  );

describe('npm start: Electron present or one plain paragraph', () => {
  it('downloads from where Electron’s installer does (its mirror variables included)', () => {
    expect(downloadUrl('45.4.1', { ELECTRON_INSTALL_PLATFORM: 'linux', ELECTRON_INSTALL_ARCH: 'x64' })).toBe(
      'https://github.com/electron/electron/releases/download/v45.4.1/electron-v45.4.1-linux-x64.zip',
    );
    expect(
      downloadUrl('45.4.1', {
        ELECTRON_MIRROR: 'https://mirror.example/electron',
        ELECTRON_CUSTOM_DIR: '{{ version }}',
        ELECTRON_INSTALL_PLATFORM: 'darwin',
        ELECTRON_INSTALL_ARCH: 'arm64',
      }),
    ).toBe('https://mirror.example/electron/45.4.1/electron-v45.4.1-darwin-arm64.zip');
  });

  it('does nothing when Electron’s program is there', async () => {
    const dist = tempDir('earshot-electron-dist-');
    fs.writeFileSync(path.join(dist, 'electron'), '');
    fs.writeFileSync(path.join(dist, 'Electron.app'), '');
    const r = await run({
      ELECTRON_OVERRIDE_DIST_PATH: dist,
      ELECTRON_MIRROR: `http://127.0.0.1:${closedPort}/`,
    });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it.skipIf(installed)(
    'a mirror nobody answers on: the paragraph, exit 1, in a few seconds, no stack trace',
    async () => {
      const r = await run({ ELECTRON_MIRROR: `http://127.0.0.1:${closedPort}/` });
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(10_000);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^Electron's program is not installed yet: downloading Electron [\d.]+ /);
      expect(lines[1]).toMatch(
        new RegExp(
          `^Earshot cannot start: Electron's own program .* is not installed, and it could not be downloaded: 127\\.0\\.0\\.1:${closedPort} could not be reached \\(ECONNREFUSED\\)\\. Connect this computer to the internet .*ELECTRON_MIRROR.*npx earshot serve\\.$`,
        ),
      );
      expect(r.stderr).not.toMatch(/^\s+at /m);
    },
  );

  it.skipIf(installed)(
    'a mirror that accepts and never answers is given up on within the check time',
    async () => {
      const r = await run({ ELECTRON_MIRROR: silentUrl, EARSHOT_ELECTRON_CHECK_MS: '1500' });
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(10_000);
      expect(r.stderr).toMatch(/could not be downloaded: 127\.0\.0\.1:\d+ did not answer within 1\.5 s\./);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    },
  );
});
