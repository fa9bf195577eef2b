/**
 * electron-builder's beforePack hook (electron-builder.yml): before a target is packed, make
 * node_modules hold that target's native code, since npm installed only the host's.
 *
 * - Platform packages the target needs (package-lock.json's versions) that are not installed are
 *   fetched with `npm pack` from the registry and unpacked into node_modules; the per-OS `files`
 *   patterns then keep only the target's.
 * - hnswlib-node is compiled by node-gyp for the host at install. For another architecture it is
 *   rebuilt with `node-gyp rebuild --arch=<arch>` (Node-API, so Node's headers serve Electron
 *   too); the host's build is kept aside and after-pack.ts puts it back. That needs a compiler for
 *   the target: Xcode builds both Mac architectures; Visual Studio needs its ARM64 tools; Linux
 *   needs a cross g++ (CXX=aarch64-linux-gnu-g++) or a build on an arm64 machine. Another OS
 *   cannot be built for at all: package each OS on that OS.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ARCH_OF_BUILDER, packagesFor, readLock, type Platform } from './native-plan.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export function hostBuildAside(): string {
  return path.join(root, 'node_modules/hnswlib-node/build/Release/addon.node.host');
}

export default async function beforePack(context: {
  electronPlatformName: string;
  arch: number;
}): Promise<void> {
  const platform = context.electronPlatformName as Platform;
  const arch = ARCH_OF_BUILDER[context.arch];
  if (!arch) throw new Error(`Earshot packages x64 and arm64 only, not architecture ${context.arch}.`);
  if (platform !== process.platform)
    throw new Error(
      `Package the ${platform} installers on ${platform}: hnswlib-node cannot be cross-compiled for another OS.`,
    );

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-native-'));
  try {
    for (const p of packagesFor(readLock(root), { platform, arch })) {
      const dir = path.join(root, 'node_modules', p.name);
      const installed = fs.existsSync(path.join(dir, 'package.json'))
        ? (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version
        : null;
      if (installed === p.version) continue;
      const tgz = execFileSync(
        npm,
        ['pack', `${p.name}@${p.version}`, '--pack-destination', tmp, '--silent'],
        {
          cwd: tmp,
          encoding: 'utf8',
        },
      )
        .trim()
        .split('\n')
        .pop()!;
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      execFileSync('tar', ['-xzf', path.join(tmp, tgz), '-C', dir, '--strip-components=1']);
      console.log(`  • native: ${p.name}@${p.version} for ${platform}-${arch}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const addon = path.join(root, 'node_modules/hnswlib-node/build/Release/addon.node');
  if (arch !== process.arch) {
    if (!fs.existsSync(hostBuildAside())) fs.copyFileSync(addon, hostBuildAside());
    try {
      execFileSync(
        process.execPath,
        [path.join(root, 'node_modules/node-gyp/bin/node-gyp.js'), 'rebuild', `--arch=${arch}`],
        {
          cwd: path.join(root, 'node_modules/hnswlib-node'),
          stdio: 'inherit',
        },
      );
    } catch (err) {
      throw new Error(
        `Could not build hnswlib-node for ${platform}-${arch} (${(err as Error).message}). Install a compiler for ${arch} (see electron/scripts/before-pack.ts), or package ${arch} on a ${arch} machine.`,
        { cause: err },
      );
    }
  }
}
