import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const APP_NAME = 'Earshot';

/**
 * The platform's app-data folder for Earshot. It matches Electron's `app.getPath('userData')`
 * so the desktop app, the CLI and `earshot serve` share one library.
 */
export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
): string {
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_NAME);
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_NAME);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), APP_NAME);
}

/** Precedence: an explicit `--data-dir`, then `EARSHOT_DATA_DIR`, then the platform default. */
export function resolveDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? env.EARSHOT_DATA_DIR;
  return chosen ? path.resolve(chosen) : defaultDataDir(process.platform, env);
}

export function databasePath(dataDir: string): string {
  return path.join(dataDir, 'earshot.db');
}

/**
 * Make the library folder private to its owner: 0700 (also when an older Earshot made it 0755),
 * and the database files 0600. New files are 0600 through the process's umask (`privateUmask`).
 */
export function secureDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') return;
  try {
    fs.chmodSync(dataDir, 0o700);
    for (const suffix of ['', '-wal', '-shm']) {
      const file = `${databasePath(dataDir)}${suffix}`;
      if (fs.existsSync(file)) fs.chmodSync(file, 0o600);
    }
  } catch {
    // A folder we do not own (a shared drive): leave it as its owner set it.
  }
}

/**
 * Files and folders this process creates are for its user alone (0600 / 0700). Called once at
 * start by the CLI and the desktop app; child processes (workers, the decoder) inherit it.
 */
export function privateUmask(): void {
  if (process.platform !== 'win32') process.umask(0o077);
}

/**
 * Whether `candidate` is inside the library folder (after following links): Earshot's own
 * database, media and models are never imported from a path a caller names.
 */
export function insideDataDir(dataDir: string, candidate: string): boolean {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const root = real(dataDir);
  const target = real(path.resolve(candidate));
  const rel = path.relative(root, target);
  return rel === '' || (rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel));
}

export function insideDataDirMessage(dataDir: string, candidate: string): string {
  return `${candidate} is inside Earshot's library folder (${dataDir}); Earshot does not import its own files. Choose a file from elsewhere.`;
}

/**
 * Where `earshot serve` puts files a browser uploads (a folder per upload, the file under its
 * own name) until the episode's first step has copied them into media/; the one place inside
 * the library that `importFiles` reads from.
 */
export function uploadsDir(dataDir: string): string {
  return path.join(dataDir, 'uploads');
}
