import fs from 'node:fs';
import path from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { fsyncFile } from '../pipeline/store/fsync.ts';
import { streamToFile } from '../pipeline/base/stream-to-file.ts';
import { USER_AGENT, networkProblem } from '../pipeline/base/net.ts';
import { ModelError } from './errors.ts';
import { clause } from '../pipeline/clause.ts';

/** What to fetch and what the finished file must be. */
export interface DownloadTarget {
  id: string;
  url: string;
  /** Expected size in bytes; null when the catalog does not know it. */
  bytes: number | null;
  sha256: string | null;
  sha1: string | null;
}

export interface DownloadProgress {
  id: string;
  /** Bytes of the file on disk so far (a resumed download starts above 0). */
  bytes: number;
  /** The whole file's size; null while unknown. */
  total: number | null;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Least time between two progress reports, in ms. Default 200. */
  progressIntervalMs?: number;
  /** Give up when no byte arrives for this long, in ms (the part is kept). Default 60000. */
  stallMs?: number;
  /** Free bytes on the disk holding `dir`; tests inject it. Default: statfs. */
  freeBytes?: (dir: string) => number;
  /** Printed in messages as the way to try again. Default `earshot models install ID`. */
  retryHint?: string;
}

export interface DownloadResult {
  /** The finished, verified and fsynced file (still the part file: the caller renames it). */
  file: string;
  bytes: number;
  sha256: string;
  /** What vouched for the file: a published hash, only its size, or nothing. */
  verified: 'hash' | 'size' | 'none';
  /** Bytes that were already here from an earlier attempt and were not fetched again. */
  resumedFrom: number;
}

interface PartMeta {
  url: string;
  etag: string | null;
  lastModified: string | null;
  total: number | null;
}

const MB = 1024 * 1024;
/** Room left over beyond the file itself, so a download never fills the disk to the last byte. */
const DISK_MARGIN = 64 * MB;

export function defaultFreeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

function mb(bytes: number): string {
  return bytes >= 10 * MB ? `${Math.round(bytes / MB)} MB` : `${(bytes / MB).toFixed(1)} MB`;
}

function readMeta(file: string): PartMeta | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as PartMeta;
  } catch {
    return null;
  }
}

/** A validator If-Range accepts: a strong ETag, else Last-Modified. */
function ifRangeValidator(meta: PartMeta): string | null {
  if (meta.etag && !meta.etag.startsWith('W/')) return meta.etag;
  return meta.lastModified;
}

async function hashPrefix(file: string, bytes: number, hashes: Hash[], signal?: AbortSignal): Promise<void> {
  if (bytes === 0) return;
  await pipeline(
    fs.createReadStream(file, { start: 0, end: bytes - 1 }),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) for (const h of hashes) h.update(chunk);
    },
    { signal },
  );
}

function removePart(part: string, meta: string): void {
  fs.rmSync(part, { force: true });
  fs.rmSync(meta, { force: true });
}

/**
 * Download one model file into `<dir>/<id>.part`, resuming an earlier attempt with a Range
 * request when the server vouches (same ETag / Last-Modified, Content-Range starting where the
 * part ends) that the bytes it sends continue the same file; otherwise it starts over. The whole
 * file is hashed while it streams (the part already here is hashed first) and checked against
 * the published sha256 (else sha1, else the size). A file that fails the check is deleted. An
 * interrupted or aborted download leaves the part and its `.json` for the next attempt.
 */
export async function downloadModel(
  target: DownloadTarget,
  dir: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  fs.mkdirSync(dir, { recursive: true });
  const part = path.join(dir, `${target.id}.part`);
  const metaFile = `${part}.json`;
  const hint = options.retryHint ?? `earshot models install ${target.id}`;
  const url = new URL(target.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ModelError(
      'MODEL_URL',
      `Earshot downloads models over http or https only, not ${url.protocol}`,
    );
  }
  const freeBytes = options.freeBytes ?? defaultFreeBytes;

  let meta = readMeta(metaFile);
  let have = meta && meta.url === target.url ? (fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0) : 0;
  // Without a validator the server cannot promise the rest belongs to the same file.
  if (have > 0 && (!meta || !ifRangeValidator(meta))) have = 0;
  if (have === 0) removePart(part, metaFile);

  for (let attempt = 0; attempt < 2; attempt++) {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity' };
    if (have > 0 && meta) {
      headers.range = `bytes=${have}-`;
      headers['if-range'] = ifRangeValidator(meta)!;
    }
    const stall = new AbortController();
    let stallTimer: NodeJS.Timeout | undefined;
    const stallMs = options.stallMs ?? 60_000;
    const arm = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(
        () =>
          stall.abort(
            new ModelError(
              'MODEL_STALLED',
              `The download of ${target.id} from ${url.host} stopped sending data for ${Math.round(stallMs / 1000)} s. ` +
                `What arrived is kept: run \`${hint}\` again to resume.`,
            ),
          ),
        stallMs,
      );
      stallTimer.unref?.();
    };
    const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal;
    const fail = (err: unknown): never => {
      if (options.signal?.aborted) throw options.signal.reason ?? err;
      if (stall.signal.aborted) throw stall.signal.reason;
      if (err instanceof ModelError) throw err;
      const net = networkProblem(err, url);
      const onDisk = fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0;
      throw new ModelError(
        'MODEL_INTERRUPTED',
        `The download of ${target.id} was interrupted${onDisk > 0 ? ` after ${mb(onDisk)}` : ''}: ${clause(net.message.replace(/;.*$/, ''))}. ` +
          `${onDisk > 0 ? 'What arrived is kept: run' : 'Run'} \`${hint}\` again to ${onDisk > 0 ? 'resume' : 'retry'}.`,
        { cause: err },
      );
    };

    arm();
    try {
      let res: Response;
      try {
        res = await fetch(url, { headers, signal });
      } catch (err) {
        return fail(err);
      }

      if (res.status === 416 && have > 0) {
        await res.body?.cancel();
        // The part may already be whole (stopped between the last byte and the install).
        const whole = Number(/bytes \*\/(\d+)/.exec(res.headers.get('content-range') ?? '')?.[1]);
        if (whole === have && (meta?.total ?? whole) === whole) {
          const hashes = newHashes(target);
          await hashPrefix(part, have, hashes.all, options.signal);
          return finish(target, part, metaFile, have, hashes, have, hint);
        }
        removePart(part, metaFile);
        have = 0;
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw statusError(res.status, url, target.id, hint);
      }

      let resumed = false;
      let total: number | null = null;
      const length = Number(res.headers.get('content-length'));
      const etag = res.headers.get('etag');
      const lastModified = res.headers.get('last-modified');
      if (res.status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
        const start = m ? Number(m[1]) : -1;
        const whole = m && m[3] !== '*' ? Number(m[3]) : null;
        // Everything must agree that these bytes continue the part we have; if anything
        // differs (another ETag, another size, another offset) splicing would corrupt the file.
        const agrees =
          have > 0 &&
          start === have &&
          (!meta?.etag || !etag || etag === meta.etag) &&
          (meta?.total == null || whole === null || whole === meta.total);
        if (!agrees) {
          await res.body?.cancel();
          removePart(part, metaFile);
          have = 0;
          meta = null;
          continue;
        }
        resumed = true;
        total = whole ?? (Number.isFinite(length) && length >= 0 ? have + length : null);
      } else {
        // 200: the whole file (the server cannot or would not resume): start over with it.
        have = 0;
        total = Number.isFinite(length) && length > 0 ? length : null;
      }
      total ??= target.bytes;

      if (target.bytes !== null && total !== null && total !== target.bytes) {
        await res.body?.cancel();
        removePart(part, metaFile);
        throw new ModelError(
          'MODEL_SIZE',
          `${url.host} offers ${target.id} as ${total} bytes, but the catalog says it is ${target.bytes} bytes, ` +
            'so it is not the file Earshot expects. Nothing was installed; the catalog entry may be out of date — ' +
            'update Earshot, or import a file you trust with `earshot models import FILE`.',
        );
      }
      const need = (total ?? 0) - have + DISK_MARGIN;
      const free = freeBytes(dir);
      if (free < need) {
        await res.body?.cancel();
        throw new ModelError(
          'MODEL_DISK_FULL',
          `Not enough free disk space for ${target.id}: it needs about ${mb(need)} and ${mb(free)} are free in ${dir}. ` +
            `Free some space (or set EARSHOT_MODELS_DIR to a bigger disk), then run \`${hint}\` again.`,
        );
      }
      meta = { url: target.url, etag, lastModified, total };
      fs.writeFileSync(metaFile, JSON.stringify(meta));

      const hashes = newHashes(target);
      if (resumed) await hashPrefix(part, have, hashes.all, signal);
      if (!resumed) fs.rmSync(part, { force: true });
      let bytes = have;
      const from = have;
      const interval = options.progressIntervalMs ?? 200;
      let last = 0;
      const report = (force: boolean) => {
        const now = Date.now();
        if (!options.onProgress || (!force && now - last < interval)) return;
        last = now;
        options.onProgress({ id: target.id, bytes, total });
      };
      report(true);
      try {
        await streamToFile(res.body!, part, {
          append: resumed,
          signal,
          onChunk: (chunk) => {
            arm();
            bytes += chunk.length;
            for (const h of hashes.all) h.update(chunk);
            report(false);
          },
        });
      } catch (err) {
        return fail(err);
      }
      if (total !== null && bytes !== total) {
        throw new ModelError(
          'MODEL_SHORT',
          `The download of ${target.id} ended early (${mb(bytes)} of ${mb(total)}). What arrived is kept: run \`${hint}\` again to resume.`,
        );
      }
      report(true);
      return finish(target, part, metaFile, bytes, hashes, from, hint);
    } finally {
      clearTimeout(stallTimer);
    }
  }
  throw new ModelError(
    'MODEL_RESUME',
    `${url.host} kept answering the download of ${target.id} with a part of some other file. Nothing was installed; try \`${hint}\` again later.`,
  );
}

function statusError(status: number, url: URL, id: string, hint: string): ModelError {
  const why =
    status === 404 || status === 410
      ? `${url.host} no longer has this file (HTTP ${status}); the catalog entry may be out of date: update Earshot`
      : status === 401 || status === 403
        ? `${url.host} refused access to it (HTTP ${status})`
        : status === 429
          ? `${url.host} asked Earshot to slow down (HTTP 429)`
          : status >= 500
            ? `the server ${url.host} had a problem (HTTP ${status})`
            : `${url.host} answered HTTP ${status}`;
  return new ModelError(
    `MODEL_HTTP_${status}`,
    `Earshot could not download ${id}: ${why}. Nothing was installed; try \`${hint}\` again later.`,
  );
}

function newHashes(target: DownloadTarget): { sha256: Hash; sha1: Hash | null; all: Hash[] } {
  const sha256 = createHash('sha256');
  const sha1 = target.sha256 === null && target.sha1 !== null ? createHash('sha1') : null;
  return { sha256, sha1, all: sha1 ? [sha256, sha1] : [sha256] };
}

/** Check the finished file; delete it when it is not the published one. */
function finish(
  target: DownloadTarget,
  part: string,
  metaFile: string,
  bytes: number,
  hashes: { sha256: Hash; sha1: Hash | null },
  resumedFrom: number,
  hint: string,
): DownloadResult {
  const sha256 = hashes.sha256.digest('hex');
  const sha1 = hashes.sha1?.digest('hex') ?? null;
  const mismatch = (what: string, expected: string, got: string) => {
    removePart(part, metaFile);
    const detail =
      what === 'size'
        ? `${got} bytes instead of ${expected}`
        : `${what} ${got.slice(0, 12)}… instead of ${expected.slice(0, 12)}…`;
    return new ModelError(
      'MODEL_CHECKSUM',
      `The downloaded ${target.id} is not the published file (${detail}): ` +
        `it was damaged on the way or the server sent something else. Earshot deleted it and installed nothing. ` +
        `Run \`${hint}\` to download it again; if this keeps happening, the catalog entry may be out of date.`,
    );
  };
  let verified: DownloadResult['verified'] = 'none';
  if (target.sha256 !== null) {
    if (sha256 !== target.sha256.toLowerCase()) throw mismatch('sha256', target.sha256, sha256);
    verified = 'hash';
  } else if (target.sha1 !== null && sha1 !== null) {
    if (sha1 !== target.sha1.toLowerCase()) throw mismatch('sha1', target.sha1, sha1);
    verified = 'hash';
  } else if (target.bytes !== null) {
    if (bytes !== target.bytes) throw mismatch('size', String(target.bytes), String(bytes));
    verified = 'size';
  }
  fsyncFile(part);
  return { file: part, bytes, sha256, verified, resumedFrom };
}
