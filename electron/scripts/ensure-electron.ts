/**
 * Before `npm start` / `npm run dev`: make sure Electron's own program is there. npm installs
 * the `electron` package without it (about 100 MB, fetched once into node_modules/electron/dist
 * by Electron's installer, node_modules/electron/install.js). When it is missing, this runs that
 * installer; when the download cannot happen (offline, blocked, a mirror that does not answer),
 * it prints one plain paragraph — what is missing, how to fix it — and exits 1, within seconds,
 * instead of electron-vite's stack trace.
 *
 * The installer is started at once (a cached download needs no network) and, beside it, the
 * address it downloads from is checked with a short timeout: no answer there, and the installer
 * is stopped. Once the address answers, the download runs as long as it needs.
 *
 * Environment: ELECTRON_MIRROR (and ELECTRON_CUSTOM_DIR) as Electron's installer reads them;
 * HTTPS_PROXY with ELECTRON_GET_USE_PROXY=1 behind a proxy; EARSHOT_ELECTRON_CHECK_MS, how long
 * the address may take to answer (default 7000).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface EnsureOptions {
  env?: NodeJS.ProcessEnv;
  /** node_modules/electron. Default: where Node resolves it from here. */
  electronDir?: string;
  log?: (line: string) => void;
}

function platformPath(platform: string): string {
  if (platform === 'darwin' || platform === 'mas') return 'Electron.app/Contents/MacOS/Electron';
  if (platform === 'win32') return 'electron.exe';
  return 'electron';
}

/** Electron's program as node_modules/electron/index.js finds it, or null when it is not there. */
export function installedElectron(dir: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const pathFile = path.join(dir, 'path.txt');
  const recorded = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, 'utf8') : null;
  const file = env.ELECTRON_OVERRIDE_DIST_PATH
    ? path.join(env.ELECTRON_OVERRIDE_DIST_PATH, recorded || platformPath(os.platform()))
    : recorded
      ? path.join(dir, 'dist', recorded)
      : null;
  return file && fs.existsSync(file) ? file : null;
}

/** The address Electron's installer downloads this machine's build from (@electron/get's rules). */
export function downloadUrl(version: string, env: NodeJS.ProcessEnv = process.env): string {
  const pick = (name: string) =>
    env[`npm_config_electron_${name}`] ?? env[`ELECTRON_${name.toUpperCase()}`] ?? undefined;
  const base = pick('mirror') ?? 'https://github.com/electron/electron/releases/download/';
  const dir = (pick('custom_dir') ?? `v${version}`).replace('{{ version }}', version);
  const platform = env.ELECTRON_INSTALL_PLATFORM ?? env.npm_config_platform ?? process.platform;
  const arch = env.ELECTRON_INSTALL_ARCH ?? env.npm_config_arch ?? process.arch;
  const file = pick('custom_filename') ?? `electron-v${version}-${platform}-${arch}.zip`;
  return `${base.replace(/\/?$/, '/')}${dir}/${file}`;
}

/** Whether the download address answers (any status below 400, redirects followed) in time. */
async function answers(url: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<string | null> {
  if (env.ELECTRON_GET_USE_PROXY) {
    // Through the proxy, as the installer will go (undici's agent reads HTTPS_PROXY / NO_PROXY).
    try {
      const getReq = createRequire(require.resolve('@electron/get'));
      const { EnvHttpProxyAgent, setGlobalDispatcher } = getReq('undici') as {
        EnvHttpProxyAgent: new () => unknown;
        setGlobalDispatcher: (d: unknown) => void;
      };
      setGlobalDispatcher(new EnvHttpProxyAgent());
    } catch {
      // No proxy support to be had: try directly.
    }
  }
  try {
    const res = await fetch(url, {
      method: 'HEAD',
      redirect: 'follow',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return res.status < 400 ? null : `${new URL(url).host} answered HTTP ${res.status} for ${url}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return `${new URL(url).host} did not answer within ${timeoutMs / 1000} s`;
    return `${new URL(url).host} could not be reached (${e.cause?.code ?? e.cause?.message ?? e.message})`;
  }
}

function paragraph(version: string, url: string, why: string): string {
  return (
    `Earshot cannot start: Electron's own program (Electron ${version}, about 100 MB, downloaded once into ` +
    `node_modules/electron/dist) is not installed, and it could not be downloaded: ${why}. ` +
    'Connect this computer to the internet and run the command again. Behind a proxy, set HTTPS_PROXY ' +
    'and ELECTRON_GET_USE_PROXY=1; where GitHub is blocked, set ELECTRON_MIRROR to a mirror of ' +
    "Electron's releases (for example ELECTRON_MIRROR=https://npmmirror.com/mirrors/electron/). " +
    'Without Electron, the same app runs in a browser: npm run build && npx earshot serve.'
  );
}

/** 0 when Electron is there (or was installed now), 1 after the paragraph. */
export async function ensureElectron(options: EnsureOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = options.electronDir ?? path.dirname(require.resolve('electron/package.json'));
  if (installedElectron(dir, env)) return 0;
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const url = downloadUrl(version, env);
  log(`Electron's program is not installed yet: downloading Electron ${version} (about 100 MB, once)…`);
  const installer = spawn(process.execPath, [path.join(dir, 'install.js')], {
    env,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  installer.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const finished = new Promise<number | null>((resolve) => installer.on('exit', (code) => resolve(code)));
  const check = answers(url, Number(env.EARSHOT_ELECTRON_CHECK_MS ?? 7000), env);
  const first = await Promise.race([finished.then((code) => ({ code })), check.then((why) => ({ why }))]);
  if ('why' in first && first.why !== null) {
    installer.kill('SIGKILL');
    await finished;
    log(paragraph(version, url, first.why));
    return 1;
  }
  const code = 'code' in first ? first.code : await finished;
  if (code === 0 && installedElectron(dir, env)) return 0;
  if (code !== 0) {
    // The installer's own words, first line only (its stack trace helps nobody here).
    const said =
      stderr
        .split('\n')
        .find((l) => l.trim())
        ?.trim() ?? `it exited with code ${code}`;
    log(paragraph(version, url, (await check) ?? said.replace(/\.$/, '')));
    return 1;
  }
  log(paragraph(version, url, 'the installer finished but the program is not where Electron looks for it'));
  return 1;
}

if (import.meta.main) process.exitCode = await ensureElectron();
