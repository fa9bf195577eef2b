/** electron-builder's afterPack hook: put back the host's hnswlib-node build (see before-pack.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { hostBuildAside } from './before-pack.ts';

export default async function afterPack(): Promise<void> {
  const aside = hostBuildAside();
  if (fs.existsSync(aside)) fs.renameSync(aside, path.join(path.dirname(aside), 'addon.node'));
}
