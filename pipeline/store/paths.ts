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
