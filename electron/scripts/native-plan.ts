/**
 * Which native code each installer must carry, from package-lock.json: the platform packages
 * (npm's optional dependencies with `os`/`cpu`) of what the app ships, and the binaries inside
 * packages that hold every platform's (better-sqlite3's prebuilds, onnxruntime-node's bin/). Used
 * by the packaging hooks (before-pack.ts stages what the target needs) and by the test that checks
 * electron-builder.yml against it (test/unit/installers.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';

export type Platform = 'darwin' | 'win32' | 'linux';
export type Arch = 'x64' | 'arm64';
export interface Target {
  platform: Platform;
  arch: Arch;
}

export interface LockEntry {
  version?: string;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  dev?: boolean;
  devOptional?: boolean;
}

const ARCHES = ['x64', 'arm64', 'arm', 'armv7l', 'ia32', 'riscv64', 'ppc64', 's390x', 'wasm32', 'loong64'];

export function readLock(root: string): Record<string, LockEntry> {
  return (
    JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, LockEntry>;
    }
  ).packages;
}

/** A package of one platform (npm installs only the host's), shipped with the app (not a dev tool). */
export function platformPackages(
  lock: Record<string, LockEntry>,
): { name: string; version: string; entry: LockEntry }[] {
  return Object.entries(lock)
    .filter(
      ([where, e]) =>
        // A cpu field marks a build for some platforms (onnxruntime-node lists only OSes: it holds them all).
        where.startsWith('node_modules/') && e.cpu && !e.dev && !e.devOptional && e.version,
    )
    .filter(([where]) => !where.slice('node_modules/'.length).includes('/node_modules/'))
    .map(([where, entry]) => ({ name: where.slice('node_modules/'.length), version: entry.version!, entry }));
}

/**
 * Whether a platform package is built for `target`: its os and cpu say so, it is for glibc (not
 * musl) on Linux and for MSVC (not MinGW) on Windows, as Electron is, and its name names no
 * other architecture (node-llama-cpp lists x64 as a cpu of its arm64 builds, for cross builds).
 */
export function isFor(name: string, entry: Pick<LockEntry, 'os' | 'cpu' | 'libc'>, target: Target): boolean {
  if (entry.os && !entry.os.includes(target.platform)) return false;
  if (!entry.os && !name.includes(target.platform)) return false;
  if (!entry.cpu || !entry.cpu.includes(target.arch)) return false;
  if (entry.libc && !entry.libc.includes('glibc')) return false;
  const tokens = name.split(/[/-]/);
  if (tokens.includes('musl') || tokens.some((t) => t.startsWith('linuxmusl')) || tokens.includes('mingw'))
    return false;
  return !tokens.some((t) => ARCHES.includes(t) && t !== target.arch);
}

/** The platform packages one installer carries: exactly those built for its target. */
export function packagesFor(lock: Record<string, LockEntry>, target: Target) {
  return platformPackages(lock).filter((p) => isFor(p.name, p.entry, target));
}

/** Binaries inside packages that ship every platform's: the one each target keeps. */
export const INSIDE: Record<string, (t: Target) => string[]> = {
  'better-sqlite3': (t) => [`prebuilds/${t.platform}-${t.arch}.node`],
  'onnxruntime-node': (t) => [`bin/napi-v6/${t.platform}/${t.arch}/onnxruntime_binding.node`],
  // Built by node-gyp for the host at install; before-pack.ts rebuilds it for the target's arch.
  'hnswlib-node': () => ['build/Release/addon.node'],
};

/** What a package of each kind must contribute to every installer (the list). */
export const COMPONENTS: { component: string; match: (name: string) => boolean }[] = [
  { component: 'decoder (FFmpeg, node-av)', match: (n) => n.startsWith('@seydx/node-av-') },
  {
    component: 'whisper.cpp',
    match: (n) => n.startsWith('@fugood/node-whisper-') || n.startsWith('@napi-rs/whisper-'),
  },
  { component: 'llama.cpp', match: (n) => n.startsWith('@node-llama-cpp/') },
];

export const ARCH_OF_BUILDER: Record<number, Arch | undefined> = { 1: 'x64', 3: 'arm64' };
