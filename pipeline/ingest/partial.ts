import fs from 'node:fs';
import path from 'node:path';

/** Where an episode's download is written until it is whole: `media/<key>.part`. */
export function partialPath(dataDir: string, key: string): string {
  return path.join(dataDir, 'media', `${key}.part`);
}

/**
 * Remove an episode's partial download (its `.part` and the resume note beside it): when the
 * episode is dead-lettered or cancelled nothing will resume it, and it may be large.
 */
export function removePartial(dataDir: string, key: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) return;
  const part = partialPath(dataDir, key);
  fs.rmSync(part, { force: true });
  fs.rmSync(`${part}.json`, { force: true });
}
