/**
 * Each installer carries exactly its own platform's native code. electron-builder.yml is read as
 * electron-builder reads it (its own file matcher and macro expander, from app-builder-lib), and
 * the files each target would pack from node_modules are compared with what package-lock.json
 * says that target needs: every platform package of every platform is offered, as on a machine
 * where all were installed, and only the target's may pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { minimatch } from 'minimatch';
import { repoRoot } from '../helpers/env.ts';
import {
  COMPONENTS,
  INSIDE,
  isFor,
  packagesFor,
  platformPackages,
  readLock,
  type Arch,
  type Platform,
  type Target,
} from '../../electron/scripts/native-plan.ts';

const require = createRequire(import.meta.url);
const { getNodeModuleFileMatcher } = require('app-builder-lib/out/fileMatcher') as {
  getNodeModuleFileMatcher(
    appDir: string,
    destination: string,
    macroExpander: (p: string) => string,
    platformOptions: unknown,
    packager: unknown,
  ): { createFilter(): (file: string, stat: { isDirectory(): boolean }) => boolean; patterns: string[] };
};
const { expandMacro } = require('app-builder-lib/out/util/macroExpander') as {
  expandMacro(pattern: string, arch: string | null, appInfo: unknown, extra?: Record<string, string>): string;
};

type Config = Record<string, unknown> & {
  files: unknown[];
  asarUnpack: string[];
  beforePack?: string;
  afterPack?: string;
  npmRebuild?: boolean;
};
const config = yaml.load(fs.readFileSync(path.join(repoRoot, 'electron-builder.yml'), 'utf8')) as Config;
const lock = readLock(repoRoot);
const OS_KEY: Record<Platform, string> = { darwin: 'mac', win32: 'win', linux: 'linux' };
const file = { isDirectory: () => false };

/** Every (platform, arch) the config builds an installer for. */
function targets(): Target[] {
  const out: Target[] = [];
  for (const platform of ['darwin', 'win32', 'linux'] as Platform[]) {
    const section = config[OS_KEY[platform]] as { target: { arch: Arch[] }[] };
    for (const t of section.target)
      for (const arch of t.arch)
        if (!out.some((o) => o.platform === platform && o.arch === arch)) out.push({ platform, arch });
  }
  return out;
}

/** What electron-builder would copy from node_modules for `target`, of the paths offered. */
function packed(target: Target, offered: string[], platformFiles = true): string[] {
  const expander = (p: string) =>
    expandMacro(
      p,
      target.arch,
      { productName: 'Earshot', version: '0.1.0' },
      { os: OS_KEY[target.platform] },
    );
  const matcher = getNodeModuleFileMatcher(
    repoRoot,
    '/app',
    expander,
    platformFiles ? config[OS_KEY[target.platform]] : {},
    { config, debugLogger: { isEnabled: false } },
  );
  const filter = matcher.createFilter();
  return offered.filter((p) => filter(path.join(repoRoot, p), file));
}

/** Paths of native code from every platform, as if all were installed. */
function everyPlatform(): string[] {
  const paths = platformPackages(lock).map(
    (p) => `node_modules/${p.name}/${p.name.includes('node-av') ? 'node-av.node' : 'binary.node'}`,
  );
  for (const p of ['darwin', 'win32', 'linux', 'linuxmusl'])
    for (const a of ['x64', 'arm64']) paths.push(`node_modules/better-sqlite3/prebuilds/${p}-${a}.node`);
  for (const p of ['darwin', 'win32', 'linux'])
    for (const a of ['x64', 'arm64'])
      paths.push(`node_modules/onnxruntime-node/bin/napi-v6/${p}/${a}/onnxruntime_binding.node`);
  paths.push('node_modules/hnswlib-node/build/Release/addon.node');
  return paths;
}

const pkgOf = (p: string) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)![1]!;

describe('installers carry exactly their own native code', () => {
  it('builds the targets the issue names, with the packaging hooks in place', () => {
    const names = targets().map((t) => `${t.platform}-${t.arch}`);
    expect(names).toEqual(
      expect.arrayContaining(['darwin-arm64', 'darwin-x64', 'win32-x64', 'linux-x64', 'linux-arm64']),
    );
    expect(config.npmRebuild).toBe(false);
    expect(fs.existsSync(path.join(repoRoot, config.beforePack!))).toBe(true);
    expect(fs.existsSync(path.join(repoRoot, config.afterPack!))).toBe(true);
  });

  for (const target of targets()) {
    const name = `${target.platform}-${target.arch}`;
    it(`${name}: only ${name} builds of every native module, and one of each component`, () => {
      const kept = packed(target, everyPlatform());
      // Platform packages: exactly the ones package-lock.json says are built for this target.
      const expected = packagesFor(lock, target)
        .map((p) => p.name)
        .sort();
      const keptPackages = [...new Set(kept.map(pkgOf))].filter((n) =>
        platformPackages(lock).some((p) => p.name === n),
      );
      expect(keptPackages.sort()).toEqual(expected);
      for (const n of keptPackages) {
        const entry = platformPackages(lock).find((p) => p.name === n)!.entry;
        expect(isFor(n, entry, target), n).toBe(true);
      }
      // Each component the app needs is there for this target.
      for (const c of COMPONENTS) {
        expect(keptPackages.filter(c.match), `${c.component} for ${name}`).not.toEqual([]);
      }
      // Packages that hold every platform's binaries keep this target's only.
      const inside = (pkg: string) =>
        kept
          .filter((p) => p.startsWith(`node_modules/${pkg}/`))
          .map((p) => p.slice(`node_modules/${pkg}/`.length));
      expect(inside('better-sqlite3')).toEqual(INSIDE['better-sqlite3']!(target));
      expect(inside('onnxruntime-node')).toEqual(INSIDE['onnxruntime-node']!(target));
      expect(inside('hnswlib-node')).toEqual(INSIDE['hnswlib-node']!(target));
      // Native code is unpacked from the asar archive (a .node file cannot load from inside it).
      for (const p of kept) {
        expect(
          config.asarUnpack.some((pattern) => minimatch(p, pattern, { dot: true })),
          `${p} is not unpacked`,
        ).toBe(true);
      }
    });
  }

  it('would fail without the per-OS patterns (the check sees a host-only config)', () => {
    const target: Target = { platform: 'linux', arch: 'arm64' };
    const kept = packed(target, everyPlatform(), false).map(pkgOf);
    expect(kept).toContain('@seydx/node-av-linux-x64');
    expect(kept).toContain('@seydx/node-av-darwin-arm64');
  });

  it('the lockfile has a build of each component for every target (what before-pack.ts fetches)', () => {
    for (const target of targets()) {
      const names = packagesFor(lock, target).map((p) => p.name);
      for (const c of COMPONENTS)
        expect(names.some(c.match), `${c.component} for ${target.platform}-${target.arch}`).toBe(true);
      // Versions come from the lockfile, so an installer never mixes releases.
      for (const p of packagesFor(lock, target)) expect(p.version).toMatch(/^\d+\.\d+\.\d+/);
    }
  });
});
