import path from 'node:path';

/** Where models live: `EARSHOT_MODELS_DIR` when set, else `<data dir>/models`. */
export function modelsDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.EARSHOT_MODELS_DIR ? path.resolve(env.EARSHOT_MODELS_DIR) : path.join(dataDir, 'models');
}

/**
 * Unfinished downloads and imports, inside the models folder so that installing is a rename on
 * one file system. The dot keeps it out of the way of people browsing the folder.
 */
export function stagingDir(models: string): string {
  return path.join(models, '.partial');
}
