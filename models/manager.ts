import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CatalogEntry, ModelKind } from './catalog.ts';
import { loadCatalog } from './catalog-file.ts';
import { downloadModel, defaultFreeBytes, type DownloadProgress } from './download.ts';
import { ModelError } from './errors.ts';
import { customId, embeddingFolderProblems, fileKind, isSafeId } from './format.ts';
import { modelsDir, stagingDir } from './location.ts';
import { databasePath, openDatabase, writeTx, type Db } from '../pipeline/store/index.ts';
import { isProcessAlive } from '../pipeline/engine/process-alive.ts';
import { systemClock, type Clock } from '../pipeline/engine/clock.ts';
import type { ModelActionView, ModelView } from '../pipeline/api/contract.ts';
import { fsyncDir } from '../pipeline/store/fsync.ts';
import { hostReachable } from './reachable.ts';
import { commitFile } from '../pipeline/base/artifacts.ts';

export { modelsDir } from './location.ts';

/** How an installed model was checked: its published hash, its size only, or not at all. */
type Verified = 'hash' | 'size' | 'none';

interface ModelRow {
  id: string;
  kind: ModelKind;
  /** What a loader opens, relative to the models folder: the file, or an embedding model's folder. */
  path: string;
  /** What was verified and must keep its size, relative to the models folder (a file or a folder). */
  file: string;
  bytes: number;
  sha256: string | null;
  verified: Verified;
  source: 'catalog' | 'import';
  label: string | null;
  installed_at: number;
}

/** The model a step should load, as `active()` hands it over. */
export interface ActiveModel {
  id: string;
  kind: ModelKind;
  /** Absolute: the model file, or an embedding model's folder. */
  path: string;
}

export interface ModelManagerOptions {
  dataDir: string;
  /** The library database, open for writing. */
  db: Db;
  /** For EARSHOT_MODELS_DIR and EARSHOT_MODEL_CATALOG. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The models on offer. Default: loadCatalog(env) (Earshot's catalog). */
  catalog?: readonly CatalogEntry[];
  clock?: Clock;
  /** Free bytes on a disk; tests inject it. Default: statfs. */
  freeBytes?: (dir: string) => number;
  /** Least time between two progress reports, in ms. Default 200. */
  progressIntervalMs?: number;
  /**
   * Called after the active model of a kind changed (chosen, or cleared by a removal: `id`
   * null), so work waiting for one can go on. Default: nothing.
   */
  onActiveChanged?: (kind: ModelKind, id: string | null) => void;
}

export interface InstallOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
}

const MB = 1024 * 1024;
const DISK_MARGIN = 64 * MB;
const activeKey = (kind: ModelKind) => `model.active.${kind}`;

function size(bytes: number): string {
  if (bytes >= 1024 * MB) return `${(bytes / (1024 * MB)).toFixed(1)} GB`;
  return bytes >= 10 * MB ? `${Math.round(bytes / MB)} MB` : `${(bytes / MB).toFixed(1)} MB`;
}

function verifiedView(v: Verified): ModelView['verified'] {
  return v === 'hash' ? true : v === 'size' ? 'size-only' : false;
}

/** Total size of a folder's regular files (symbolic links are not followed). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) total += folderBytes(p);
    else if (ent.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

/** Hard-link `from` to `to`. False when this file system cannot link them (another device, no links). */
function tryLink(from: string, to: string): boolean {
  try {
    fs.linkSync(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK', 'EACCES', 'ENOSYS', 'EOPNOTSUPP'].includes(code)) throw err;
    return false;
  }
}

/** Hard-link when the file system allows it (no copy, no space), else copy. True when linked. */
function linkOrCopy(from: string, to: string): boolean {
  if (tryLink(from, to)) return true;
  fs.copyFileSync(from, to);
  return false;
}

/** Copy a folder's files (hard links where possible); symbolic links inside are skipped. */
function copyTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const ent of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, ent.name);
    const dst = path.join(to, ent.name);
    if (ent.isDirectory()) copyTree(src, dst);
    else if (ent.isFile()) linkOrCopy(src, dst);
  }
}

async function hashFile(file: string, signal?: AbortSignal): Promise<{ sha256: string; sha1: string }> {
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1');
  await pipeline(
    fs.createReadStream(file),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        sha256.update(chunk);
        sha1.update(chunk);
      }
    },
    { signal },
  );
  return { sha256: sha256.digest('hex'), sha1: sha1.digest('hex') };
}

/** Why an installed model cannot be used as recorded, or null when its file is there, unchanged. */
function rowProblem(row: ModelRow, dir: string): ModelError | null {
  const file = path.join(dir, row.file);
  const st = fs.statSync(file, { throwIfNoEntry: false });
  const found = !st ? null : st.isDirectory() ? folderBytes(file) : st.size;
  if (found === row.bytes) return null;
  const again =
    row.source === 'catalog'
      ? `run \`earshot models install ${row.id}\` again`
      : `import it again with \`earshot models import FILE\` (after \`earshot models remove ${row.id}\`)`;
  return new ModelError(
    'MODEL_CHANGED',
    `The ${row.kind} model file ${file} is ${found === null ? 'missing' : `changed (${found} bytes, ${row.bytes} expected)`}, so Earshot will not use it; ${again}.`,
  );
}

function hasTable(db: Db): boolean {
  return (
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'models'`).get() !== undefined
  );
}

/** Open the library read-only for a lookup (a worker process never writes it); null when there is none. */
function withLibrary<T>(dataDir: string, db: Db | undefined, fn: (db: Db) => T): T | null {
  if (db) return fn(db);
  const file = databasePath(dataDir);
  if (!fs.existsSync(file)) return null;
  const own = openDatabase(file, { readonly: true });
  try {
    return fn(own);
  } finally {
    own.close();
  }
}

function notInstalled(id: string, what: string): ModelError {
  return new ModelError(
    'MODEL_NOT_INSTALLED',
    `${what} ${id} is not installed; install it (\`earshot models install ${id}\`) or choose another with \`earshot models use ID\`.`,
  );
}

function checkedModel(db: Db, id: string, dir: string, what: string): ActiveModel {
  const row = hasTable(db)
    ? (db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined)
    : undefined;
  if (!row) throw notInstalled(id, what);
  const problem = rowProblem(row, dir);
  if (problem) throw problem;
  return { id: row.id, kind: row.kind, path: path.join(dir, row.path) };
}

/**
 * The active model of a kind, for the step that loads it (in a worker process: only the data
 * folder and the environment are needed; the library is opened read-only unless `db` is given).
 * Null when none is chosen. Throws a ModelError when the chosen model's file is missing or no
 * longer the size it was installed with: a partial or damaged file is never handed out.
 */
export function activeModel(
  kind: ModelKind,
  options: { dataDir: string; env?: NodeJS.ProcessEnv; db?: Db },
): ActiveModel | null {
  return withLibrary(options.dataDir, options.db, (db) => {
    const setting = db.prepare('SELECT value FROM settings WHERE key = ?').get(activeKey(kind)) as
      { value: string } | undefined;
    if (!setting) return null;
    return checkedModel(
      db,
      setting.value,
      modelsDir(options.dataDir, options.env),
      `The chosen ${kind} model`,
    );
  });
}

/** An installed model by id, checked on disk like activeModel(); throws a ModelError when it cannot be used. */
export function installedModel(
  id: string,
  options: { dataDir: string; env?: NodeJS.ProcessEnv; db?: Db },
): ActiveModel {
  const found = withLibrary(options.dataDir, options.db, (db) =>
    checkedModel(db, id, modelsDir(options.dataDir, options.env), 'The model'),
  );
  if (!found) throw notInstalled(id, 'The model');
  return found;
}

/** The file (or folder) of an installed model, for a step that was given the model's id. */
export function resolveInstalledModel(
  dataDir: string,
  id: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return installedModel(id, { dataDir, env }).path;
}

/** Installs in flight in this process, by models folder and id: a second request joins the first. */
const inFlight = new Map<string, Promise<ModelActionView>>();

/**
 * The models on this machine: install (download with progress, resume and verification, then an
 * atomic rename into place), import, list, remove, and the active model per kind. Files live in
 * `<models folder>/<id>/`; unfinished downloads in `<models folder>/.partial/`. A model is recorded
 * in the library (table `models`) only once its file is complete and verified.
 */
export class ModelManager {
  readonly dataDir: string;
  readonly dir: string;
  private readonly db: Db;
  private readonly env: NodeJS.ProcessEnv;
  private readonly clock: Clock;
  private readonly options: ModelManagerOptions;
  private catalogCache: readonly CatalogEntry[] | undefined;

  constructor(options: ModelManagerOptions) {
    this.options = options;
    this.dataDir = options.dataDir;
    this.db = options.db;
    this.env = options.env ?? process.env;
    this.clock = options.clock ?? systemClock;
    this.dir = modelsDir(options.dataDir, this.env);
    this.catalogCache = options.catalog;
  }

  get catalog(): readonly CatalogEntry[] {
    this.catalogCache ??= loadCatalog(this.env);
    return this.catalogCache;
  }

  private get staging(): string {
    return stagingDir(this.dir);
  }

  private entry(id: string): CatalogEntry | undefined {
    return this.catalog.find((e) => e.id === id);
  }

  private row(id: string): ModelRow | undefined {
    return this.db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
  }

  private activeId(kind: ModelKind): string | null {
    const r = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(activeKey(kind)) as
      { value: string } | undefined;
    return r?.value ?? null;
  }

  private unknown(id: string): ModelError {
    return new ModelError(
      'MODEL_UNKNOWN',
      `Earshot knows no model "${id}"; \`earshot models list\` shows the catalog and what is installed.`,
    );
  }

  private partialBytes(id: string): number | null {
    if (!isSafeId(id)) return null;
    return fs.statSync(path.join(this.staging, `${id}.part`), { throwIfNoEntry: false })?.size ?? null;
  }

  private view(id: string): ModelView {
    const row = this.row(id);
    const entry = this.entry(id);
    if (!row && !entry) throw this.unknown(id);
    const kind = (row?.kind ?? entry!.kind) as ModelKind;
    return {
      id,
      kind,
      label: entry?.label ?? row?.label ?? id,
      installed: row !== undefined,
      active: row !== undefined && this.activeId(kind) === id,
      path: row ? path.join(this.dir, row.path) : null,
      bytes: row ? row.bytes : (entry?.bytes ?? null),
      verified: row ? verifiedView(row.verified) : null,
      source: row?.source ?? null,
      installedAt: row?.installed_at ?? null,
      partialBytes: this.partialBytes(id),
      quality: entry?.quality || null,
      licence: entry?.licence || null,
      memoryBytes: entry?.memoryBytes ?? null,
    };
  }

  /** Installed models (by kind, then id), then the catalog's models that are not installed. */
  list(): ModelView[] {
    const rows = this.db.prepare('SELECT id FROM models ORDER BY kind, id').all() as { id: string }[];
    const installed = new Set(rows.map((r) => r.id));
    return [
      ...rows.map((r) => this.view(r.id)),
      ...this.catalog.filter((e) => !installed.has(e.id)).map((e) => this.view(e.id)),
    ];
  }

  private record(row: ModelRow): void {
    writeTx(this.db, `recording the model ${row.id}`, () => {
      this.db
        .prepare(
          `INSERT INTO models (id, kind, path, file, bytes, sha256, verified, source, label, installed_at)
           VALUES (@id, @kind, @path, @file, @bytes, @sha256, @verified, @source, @label, @installed_at)
           ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, path = excluded.path, file = excluded.file,
             bytes = excluded.bytes, sha256 = excluded.sha256, verified = excluded.verified,
             source = excluded.source, label = excluded.label, installed_at = excluded.installed_at`,
        )
        .run(row);
    });
  }

  /** Where a catalog model's file goes, and what a loader opens (an embedding model: its folder). */
  private placement(entry: CatalogEntry): { file: string; path: string } {
    const file = path.normalize(path.join(entry.id, entry.file));
    if (!isSafeId(entry.id) || !file.startsWith(`${entry.id}${path.sep}`) || file.includes(`..${path.sep}`)) {
      throw new ModelError(
        'MODEL_CATALOG',
        `The catalog entry ${entry.id} names an unsafe file (${entry.file}).`,
      );
    }
    return { file, path: entry.kind === 'embedding' ? entry.id : file };
  }

  private takeLock(id: string): () => void {
    fs.mkdirSync(this.staging, { recursive: true });
    const lock = path.join(this.staging, `${id}.lock`);
    for (let attempt = 0; ; attempt++) {
      try {
        fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
        return () => fs.rmSync(lock, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
        const pid = Number(fs.readFileSync(lock, 'utf8'));
        if (pid !== process.pid && isProcessAlive(pid)) {
          throw new ModelError(
            'MODEL_BUSY',
            `Another Earshot process (pid ${pid}) is downloading ${id} right now; wait for it to finish.`,
          );
        }
        fs.rmSync(lock, { force: true }); // left by a process that is gone
      }
    }
  }

  /**
   * Download, verify and install a catalog model. An interrupted download is resumed on the next
   * call; a file that fails verification is deleted and nothing is installed.
   */
  async install(id: string, options: InstallOptions = {}): Promise<ModelActionView> {
    const entry = this.entry(id);
    if (!entry) {
      if (this.row(id)) {
        throw new ModelError(
          'MODEL_NOT_IN_CATALOG',
          `${id} is a model you imported, not one Earshot can download; it is already installed.`,
        );
      }
      throw this.unknown(id);
    }
    const key = `${this.dir}\0${id}`;
    let running = inFlight.get(key);
    if (!running) {
      running = this.installNow(entry, options).finally(() => inFlight.delete(key));
      inFlight.set(key, running);
    }
    return running;
  }

  private async installNow(entry: CatalogEntry, options: InstallOptions): Promise<ModelActionView> {
    const { id } = entry;
    const place = this.placement(entry);
    const existing = this.row(id);
    if (existing && !rowProblem(existing, this.dir)) {
      return { model: this.view(id), message: `${id} is already installed (${this.view(id).path}).` };
    }
    const release = this.takeLock(id);
    try {
      const target = path.join(this.dir, place.file);
      const adopted = await this.adopt(entry, target, options.signal);
      let bytes: number;
      let sha256: string;
      let verified: Verified;
      let how: string;
      if (adopted) {
        ({ bytes, sha256, verified } = adopted);
        how = 'found already downloaded in the models folder';
      } else {
        const got = await downloadModel(entry, this.staging, {
          signal: options.signal,
          onProgress: options.onProgress,
          freeBytes: this.options.freeBytes,
          progressIntervalMs: this.options.progressIntervalMs,
        });
        fs.mkdirSync(path.dirname(target), { recursive: true });
        commitFile(got.file, target);
        fs.rmSync(`${got.file}.json`, { force: true });
        ({ bytes, sha256, verified } = got);
        how = got.resumedFrom > 0 ? `downloaded (resumed at ${size(got.resumedFrom)})` : 'downloaded';
      }
      this.record({
        id,
        kind: entry.kind,
        path: place.path,
        file: place.file,
        bytes,
        sha256,
        verified,
        source: 'catalog',
        label: null,
        installed_at: this.clock.now(),
      });
      const check =
        verified === 'hash'
          ? 'checksum verified'
          : verified === 'size'
            ? 'the catalog publishes no checksum for it, so only its size was checked'
            : 'the catalog publishes neither a checksum nor a size for it, so it could not be checked';
      return {
        model: this.view(id),
        message: `Installed ${id} (${size(bytes)}, ${how}; ${check}). ${this.chooseIfNone(entry.kind, id)}`,
      };
    } finally {
      release();
    }
  }

  /**
   * A catalog file already where it belongs but not recorded (stopped between the rename and the
   * record, or a models folder shared by two libraries): verify it instead of downloading again.
   */
  private async adopt(
    entry: CatalogEntry,
    target: string,
    signal?: AbortSignal,
  ): Promise<{ bytes: number; sha256: string; verified: Verified } | null> {
    const st = fs.statSync(target, { throwIfNoEntry: false });
    if (!st?.isFile() || (entry.bytes !== null && st.size !== entry.bytes)) return null;
    if (entry.sha256 === null && entry.sha1 === null && entry.bytes === null) return null;
    const h = await hashFile(target, signal);
    if (entry.sha256 !== null)
      return h.sha256 === entry.sha256 ? { bytes: st.size, sha256: h.sha256, verified: 'hash' } : null;
    if (entry.sha1 !== null)
      return h.sha1 === entry.sha1 ? { bytes: st.size, sha256: h.sha256, verified: 'hash' } : null;
    return { bytes: st.size, sha256: h.sha256, verified: 'size' };
  }

  /**
   * Add a model the user already has: a file whose content matches a catalog entry becomes that
   * model (verified); otherwise a whisper.cpp (ggml) or GGUF file, or a transformers.js embedding
   * folder, becomes a custom model `custom-<name>`. The file is hard-linked when it is on the
   * same file system, else copied. Anything else is refused.
   */
  async import(source: string, options: { signal?: AbortSignal } = {}): Promise<ModelActionView> {
    const from = path.resolve(source);
    const st = fs.statSync(from, { throwIfNoEntry: false });
    if (!st) throw new ModelError('MODEL_IMPORT_MISSING', `There is no file or folder at ${from}.`);
    fs.mkdirSync(this.staging, { recursive: true });
    if (st.isDirectory()) return this.importFolder(from);
    if (!st.isFile()) throw new ModelError('MODEL_IMPORT_NOT_FILE', `${from} is not a file or a folder.`);

    const kindByFormat = fileKind(from);
    const staged = path.join(this.staging, `import-${randomUUID()}`);
    try {
      let hashes: { sha256: string; sha1: string };
      if (linkOrCopyFile(from, staged, this.options.freeBytes ?? defaultFreeBytes, st.size, this.staging)) {
        hashes = await hashFile(staged, options.signal);
      } else {
        hashes = await copyHashing(from, staged, options.signal);
      }
      const match =
        this.catalog.find((e) => e.sha256 !== null && e.sha256 === hashes.sha256) ??
        this.catalog.find((e) => e.sha256 === null && e.sha1 !== null && e.sha1 === hashes.sha1) ??
        this.catalog.find(
          (e) => e.sha256 === null && e.sha1 === null && e.bytes === st.size && e.kind === kindByFormat,
        );
      if (match) {
        const place = this.placement(match);
        const existing = this.row(match.id);
        if (existing && existing.sha256 === hashes.sha256 && !rowProblem(existing, this.dir)) {
          return {
            model: this.view(match.id),
            message: `${match.id} is already installed; nothing to import.`,
          };
        }
        this.placeFile(staged, path.join(this.dir, place.file));
        const verified: Verified = match.sha256 !== null || match.sha1 !== null ? 'hash' : 'size';
        this.record({
          id: match.id,
          kind: match.kind,
          path: place.path,
          file: place.file,
          bytes: st.size,
          sha256: hashes.sha256,
          verified,
          source: 'import',
          label: null,
          installed_at: this.clock.now(),
        });
        const chosen = this.chooseIfNone(match.kind, match.id);
        return {
          model: this.view(match.id),
          message: `Imported ${from} as ${match.id} (${size(st.size)}; ${verified === 'hash' ? 'it matches the published checksum' : 'the catalog has no checksum for it: its size matches'}). ${chosen}`,
        };
      }
      if (!kindByFormat) {
        throw new ModelError(
          'MODEL_IMPORT_UNKNOWN',
          `${from} is not a model Earshot can use: it matches no model in the catalog and is neither a whisper.cpp model (ggml .bin) nor a GGUF language model. ` +
            'An embedding model is imported as its folder (config.json, tokenizer.json, onnx/*.onnx). Nothing was imported.',
        );
      }
      const name = path.basename(from);
      const id = customId(name);
      const existing = this.row(id);
      if (existing) {
        if (existing.sha256 === hashes.sha256 && !rowProblem(existing, this.dir)) {
          return {
            model: this.view(id),
            message: `${from} is already installed as ${id}; nothing to import.`,
          };
        }
        throw new ModelError(
          'MODEL_IMPORT_TAKEN',
          `Another model is already installed as ${id}. Remove it first (\`earshot models remove ${id}\`) or rename the file you are importing.`,
        );
      }
      const safeName = name.replace(/[^A-Za-z0-9._-]+/g, '-');
      const file = path.join(id, safeName);
      this.placeFile(staged, path.join(this.dir, file));
      this.record({
        id,
        kind: kindByFormat,
        path: file,
        file,
        bytes: st.size,
        sha256: hashes.sha256,
        verified: 'none',
        source: 'import',
        label: name,
        installed_at: this.clock.now(),
      });
      const lookalike = this.catalog.find((e) => path.basename(e.file) === name);
      const chosen = this.chooseIfNone(kindByFormat, id);
      return {
        model: this.view(id),
        message:
          `Imported ${from} as the custom ${kindByFormat} model ${id} (${size(st.size)}; a custom model is not verified against the catalog).` +
          (lookalike
            ? ` It is named like the catalog's ${lookalike.id} but its content is different; to get that model, run \`earshot models install ${lookalike.id}\`.`
            : '') +
          ` ${chosen}`,
      };
    } finally {
      fs.rmSync(staged, { force: true });
    }
  }

  private placeFile(staged: string, target: string): void {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    commitFile(staged, target);
  }

  private importFolder(from: string): ModelActionView {
    const problems = embeddingFolderProblems(from);
    if (problems.length > 0) {
      throw new ModelError(
        'MODEL_IMPORT_UNKNOWN',
        `The folder ${from} is not a model Earshot can use: an embedding model folder needs config.json, tokenizer.json and onnx/*.onnx, and this one lacks ${problems.join(', ')}. Nothing was imported.`,
      );
    }
    const id = customId(path.basename(from));
    if (this.row(id)) {
      throw new ModelError(
        'MODEL_IMPORT_TAKEN',
        `Another model is already installed as ${id}. Remove it first (\`earshot models remove ${id}\`) or rename the folder you are importing.`,
      );
    }
    const bytes = folderBytes(from);
    const staged = path.join(this.staging, `import-${randomUUID()}`);
    const target = path.join(this.dir, id);
    try {
      const free = (this.options.freeBytes ?? defaultFreeBytes)(this.staging);
      if (free < bytes + DISK_MARGIN) {
        throw new ModelError(
          'MODEL_DISK_FULL',
          `Not enough free disk space to copy ${from} (${size(bytes)}; ${size(free)} free). Free some space and import it again.`,
        );
      }
      copyTree(from, staged);
      fs.rmSync(target, { recursive: true, force: true });
      fs.renameSync(staged, target);
      fsyncDir(this.dir);
    } finally {
      fs.rmSync(staged, { recursive: true, force: true });
    }
    this.record({
      id,
      kind: 'embedding',
      path: id,
      file: id,
      bytes: folderBytes(target),
      sha256: null,
      verified: 'none',
      source: 'import',
      label: path.basename(from),
      installed_at: this.clock.now(),
    });
    const chosen = this.chooseIfNone('embedding', id);
    return {
      model: this.view(id),
      message: `Imported the folder ${from} as the custom embedding model ${id} (${size(bytes)}; not verified against the catalog). ${chosen}`,
    };
  }

  /**
   * A model just installed becomes its kind's model when none is chosen (an installed model that
   * nothing uses helps nobody). Says which model is active either way.
   */
  private chooseIfNone(kind: ModelKind, id: string): string {
    const active = this.activeId(kind);
    if (active === null || (active !== id && !this.row(active))) {
      this.setActive(kind, id);
      return `It is now the active ${kind} model.`;
    }
    if (active === id) return `It is the active ${kind} model.`;
    return `The active ${kind} model is still ${active}; \`earshot models use ${id}\` switches to this one.`;
  }

  private setActive(kind: ModelKind, id: string): void {
    writeTx(this.db, `choosing the ${kind} model`, () => {
      this.db
        .prepare(
          `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        )
        .run(activeKey(kind), id, this.clock.now());
    });
    this.options.onActiveChanged?.(kind, id);
  }

  /** Delete an installed model (and any unfinished download of it). Clears it as the active model, and says so. */
  remove(id: string): ModelActionView {
    if (!isSafeId(id)) throw this.unknown(id);
    const row = this.row(id);
    const partial = this.partialBytes(id);
    const dropPartial = () => {
      fs.rmSync(path.join(this.staging, `${id}.part`), { force: true });
      fs.rmSync(path.join(this.staging, `${id}.part.json`), { force: true });
    };
    if (!row) {
      if (partial !== null) {
        dropPartial();
        return {
          model: this.view(id),
          message: `${id} was not installed; removed its unfinished download (${size(partial)}).`,
        };
      }
      if (this.entry(id)) {
        throw new ModelError('MODEL_NOT_INSTALLED', `${id} is not installed, so there is nothing to remove.`);
      }
      throw this.unknown(id);
    }
    const before = this.view(id);
    const wasActive = this.activeId(row.kind) === id;
    // The record goes first: stopped halfway, a leftover file is harmless, a record without its file is not.
    writeTx(this.db, `removing the model ${id}`, () => {
      this.db.prepare('DELETE FROM models WHERE id = ?').run(id);
      if (wasActive) this.db.prepare('DELETE FROM settings WHERE key = ?').run(activeKey(row.kind));
    });
    fs.rmSync(path.join(this.dir, id), { recursive: true, force: true });
    dropPartial();
    if (wasActive) this.options.onActiveChanged?.(row.kind, null);
    return {
      model: {
        ...before,
        installed: false,
        active: false,
        path: null,
        verified: null,
        source: null,
        installedAt: null,
        partialBytes: null,
      },
      message:
        `Removed ${id} (${size(row.bytes)} freed).` +
        (wasActive
          ? ` It was the active ${row.kind} model, so no ${row.kind} model is active now: ${this.nextStep(row.kind)}.`
          : ''),
    };
  }

  /** Make an installed model the one its kind uses (setting `model.active.<kind>`). */
  use(id: string): ModelActionView {
    const row = this.row(id);
    if (!row) {
      if (this.entry(id)) {
        throw new ModelError(
          'MODEL_NOT_INSTALLED',
          `${id} is not installed; install it first with \`earshot models install ${id}\`.`,
        );
      }
      throw this.unknown(id);
    }
    const problem = rowProblem(row, this.dir);
    if (problem) throw problem;
    const previous = this.activeId(row.kind);
    this.setActive(row.kind, id);
    return {
      model: this.view(id),
      message:
        previous === id
          ? `${id} already is the active ${row.kind} model.`
          : `${id} is now the active ${row.kind} model${previous ? ` (instead of ${previous})` : ''}.`,
    };
  }

  /**
   * The model of a kind to suggest: the one `earshot models advise` recommended on this machine
   * (it records it), else a sensible first choice from the catalog.
   */
  recommended(kind: ModelKind): string | null {
    const advised = this.db
      .prepare('SELECT value FROM settings WHERE key = ?')
      .get(`model.advice.${kind}`) as { value: string } | undefined;
    const fallback: Record<ModelKind, string> = {
      whisper: 'whisper-base.en',
      llm: 'qwen2.5-1.5b-instruct-q4_k_m',
      embedding: 'all-minilm-l6-v2-onnx-quantized',
    };
    for (const id of [advised?.value, fallback[kind]]) if (id && this.entry(id)) return id;
    return this.catalog.find((e) => e.kind === kind)?.id ?? null;
  }

  /**
   * What to do on this machine when no model of a kind can be used, as a clause ("install one
   * with …"): choose one that is installed; else install the recommended one — or, when the
   * model host cannot be reached (`reachable` false), import a file fetched elsewhere; both
   * when reachability is not known.
   */
  nextStep(kind: ModelKind, reachable?: boolean): string {
    const installed = this.db
      .prepare('SELECT id FROM models WHERE kind = ? ORDER BY installed_at DESC, id')
      .all(kind) as {
      id: string;
    }[];
    const usable = installed.find((r) => !rowProblem(this.row(r.id)!, this.dir));
    if (usable) return `choose one with \`earshot models use ${usable.id}\``;
    const rec = this.recommended(kind);
    const entry = rec ? this.entry(rec) : undefined;
    const install = `install one with \`earshot models install ${rec ?? 'ID'}\``;
    const importIt = `import a file you have with \`earshot models import FILE\``;
    if (reachable === false)
      return `this machine cannot reach ${entry ? new URL(entry.url).host : 'the model host'}, so download ${entry ? `${entry.url} ` : 'a model '}on another machine and ${importIt}`;
    if (reachable === true) return install;
    return `${install}, or ${importIt}`;
  }

  /**
   * `nextStep`, with reachability found out: when no installed model can be chosen, whether the
   * recommended model's host answers (a few seconds at most) decides between install and import.
   */
  async nextStepHere(kind: ModelKind, reachable = hostReachable): Promise<string> {
    const installed = this.db.prepare('SELECT id FROM models WHERE kind = ?').all(kind) as { id: string }[];
    if (installed.some((r) => !rowProblem(this.row(r.id)!, this.dir))) return this.nextStep(kind);
    const rec = this.recommended(kind);
    const entry = rec ? this.entry(rec) : undefined;
    return this.nextStep(kind, entry ? await reachable(entry.url) : undefined);
  }

  /** The active model of a kind, checked on disk; see activeModel(). */
  active(kind: ModelKind): ActiveModel | null {
    return activeModel(kind, { dataDir: this.dataDir, env: this.env, db: this.db });
  }
}

/** Hard-link `from` to `to`; when that is not possible, check the disk has room for a copy. True when linked. */
function linkOrCopyFile(
  from: string,
  to: string,
  freeBytes: (dir: string) => number,
  bytes: number,
  dir: string,
): boolean {
  if (tryLink(from, to)) return true;
  const free = freeBytes(dir);
  if (free < bytes + DISK_MARGIN) {
    throw new ModelError(
      'MODEL_DISK_FULL',
      `Not enough free disk space to copy ${from} (${size(bytes)}; ${size(free)} free in ${dir}). Free some space and import it again.`,
    );
  }
  return false;
}

/** Copy a file, hashing it on the way, and fsync the copy. */
async function copyHashing(
  from: string,
  to: string,
  signal?: AbortSignal,
): Promise<{ sha256: string; sha1: string }> {
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1');
  await pipeline(
    fs.createReadStream(from),
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        sha256.update(chunk);
        sha1.update(chunk);
        done(null, chunk);
      },
    }),
    fs.createWriteStream(to),
    { signal },
  );
  const fd = fs.openSync(to, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { sha256: sha256.digest('hex'), sha1: sha1.digest('hex') };
}
