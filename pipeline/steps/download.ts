import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { streamToFile } from '../base/stream-to-file.ts';
import { USER_AGENT, describeNetworkError, describeStatus } from '../ingest/http.ts';
import { IngestError } from '../ingest/errors.ts';
import { DEFAULT_IDLE_MS, guardedFetch } from '../ingest/net-policy.ts';
import { removePartial } from '../ingest/partial.ts';
import { insideDataDir, uploadsDir } from '../store/paths.ts';
import { PermanentStepError, RetryLaterError, type Json, type TypedStepContext } from '../engine/workflow.ts';
import { commitFile } from '../base/artifacts.ts';

export interface DownloadSource {
  url: string;
  type?: string;
  length?: number;
}

export interface DownloadInput {
  episodeId: number;
  key: string;
  sources: DownloadSource[];
  /** A file the user imported: copied into the library instead of downloaded. */
  localPath?: string | null;
  sha256?: string | null;
  /** The hand-subscribed feed's host: the one private host the audio may come from. */
  trustedHost?: string | null;
  /** The episode's length from its feed, for the size cap. */
  durationMs?: number | null;
}

export interface DownloadOutput {
  path: string;
  bytes: number;
  contentType: string | null;
  url: string;
}

const EXT: Record<string, string> = {
  'audio/mpeg': '.mp3',
  'audio/mp3': '.mp3',
  'audio/mp4': '.m4a',
  'audio/x-m4a': '.m4a',
  'audio/m4a': '.m4a',
  'audio/aac': '.aac',
  'audio/ogg': '.ogg',
  'audio/opus': '.opus',
  'audio/flac': '.flac',
  'audio/wav': '.wav',
  'audio/x-wav': '.wav',
  'video/mp4': '.mp4',
  'video/x-matroska': '.mkv',
  'video/webm': '.webm',
  'audio/webm': '.webm',
};

/** What the server may send as episode audio: anything but documents. */
function acceptable(contentType: string | null): boolean {
  if (!contentType) return true;
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return !/^(text\/|application\/(xhtml\+xml|xml|json|rss\+xml|atom\+xml))/.test(t);
}

/** The file's name comes from the episode key (never from feed text); the extension from the type. */
export function mediaPath(dataDir: string, key: string, contentType: string | null, url: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(key))
    throw new PermanentStepError(`Episode key "${key}" is not safe as a file name`);
  const t = contentType?.split(';')[0]!.trim().toLowerCase() ?? '';
  let ext = EXT[t];
  if (!ext) {
    const fromUrl = path.extname(new URL(url).pathname).toLowerCase();
    ext = /^\.[a-z0-9]{1,5}$/.test(fromUrl) ? fromUrl : '.audio';
  }
  return path.join(dataDir, 'media', `${key}${ext}`);
}

function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const t = Date.parse(header);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

const MB = 1024 * 1024;

/** No episode is larger than this, whatever its feed says (EARSHOT_DOWNLOAD_MAX_MB overrides). */
export function absoluteCeiling(env: NodeJS.ProcessEnv = process.env): number {
  const mb = Number(env.EARSHOT_DOWNLOAD_MAX_MB);
  return Number.isFinite(mb) && mb > 0 ? mb * MB : 8 * 1024 * MB;
}

/** No byte for this long fails the attempt (EARSHOT_DOWNLOAD_IDLE_MS overrides; default 30 s). */
export function idleTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.EARSHOT_DOWNLOAD_IDLE_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : DEFAULT_IDLE_MS;
}

/**
 * The most bytes an episode's audio may take: twice the length its feed declares, or its
 * duration at a generous bitrate (320 kb/s audio, 8 Mb/s video) and half again, whichever is
 * larger, never under 64 MiB (feeds understate), never over the absolute ceiling. With neither
 * declared, the ceiling.
 */
export function sizeCap(
  src: Pick<DownloadSource, 'length' | 'type'>,
  durationMs: number | null | undefined,
  ceiling = absoluteCeiling(),
): number {
  const byLength = src.length && src.length > 0 ? src.length * 2 : 0;
  const bytesPerSecond = /^video\//i.test(src.type ?? '') ? 1_000_000 : 40_000;
  const byDuration = durationMs && durationMs > 0 ? (durationMs / 1000) * bytesPerSecond * 1.5 : 0;
  if (!byLength && !byDuration) return ceiling;
  return Math.min(ceiling, Math.max(64 * MB, byLength, byDuration));
}

/**
 * Download one source into `<key>.part`, resuming with Range when a part is already there, then
 * rename into place. Throws IngestError (or RetryLaterError) with a user-readable message.
 */
async function fetchSource(
  ctx: TypedStepContext<DownloadInput>,
  input: DownloadInput,
  src: DownloadSource,
): Promise<DownloadOutput> {
  const mediaDir = path.join(ctx.dataDir, 'media');
  fs.mkdirSync(mediaDir, { recursive: true });
  const part = path.join(mediaDir, `${input.key}.part`);
  const meta = `${part}.json`;
  let have = 0;
  let validator: string | undefined;
  try {
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as { url: string; validator?: string };
    if (m.url === src.url) {
      have = fs.statSync(part).size;
      validator = m.validator;
    }
  } catch {
    have = 0;
  }
  // Resume only what the server can vouch for (an ETag or Last-Modified): without a validator
  // a resumed part could be spliced onto a different rendition of the file.
  if (have > 0 && !validator) have = 0;
  if (have === 0) fs.rmSync(part, { force: true });
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity' };
  if (have > 0) {
    headers.range = `bytes=${have}-`;
    headers['if-range'] = validator!;
  }
  const url = new URL(src.url);
  const idleMs = idleTimeoutMs();
  const cap = sizeCap(src, input.durationMs);
  let res: Response;
  try {
    res = await guardedFetch(
      url,
      { headers, signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(6 * 3_600_000)]) },
      { trustedHost: input.trustedHost ?? null, idleMs },
    );
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw describeNetworkError(err, url, idleMs);
  }
  if (res.status === 429 || res.status === 503) {
    await res.body?.cancel();
    const wait = retryAfterMs(res.headers.get('retry-after'), Date.now());
    if (wait !== undefined) {
      throw new RetryLaterError(
        `${url.host} asked Earshot to come back in ${Math.ceil(wait / 1000)} s (HTTP ${res.status}).`,
        wait,
      );
    }
    throw describeStatus(res.status, url, 'episode audio');
  }
  if (res.status === 416) {
    await res.body?.cancel();
    // The part may already be whole (a crash between the last byte and the rename).
    const whole = Number(/bytes \*\/(\d+)/.exec(res.headers.get('content-range') ?? '')?.[1]);
    if (whole === have) {
      const target = mediaPath(ctx.dataDir, input.key, res.headers.get('content-type'), src.url);
      commitFile(part, target);
      fs.rmSync(meta, { force: true });
      return { path: target, bytes: have, contentType: null, url: src.url };
    }
    // Our part is not a prefix the server recognizes: start over next time.
    fs.rmSync(part, { force: true });
    fs.rmSync(meta, { force: true });
    throw new IngestError(
      'DOWNLOAD_RANGE',
      `${url.host} refused to resume the download; Earshot will start it again.`,
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw describeStatus(res.status, url, 'episode audio');
  }
  const contentType = res.headers.get('content-type');
  if (!acceptable(contentType)) {
    await res.body?.cancel();
    throw new IngestError(
      'DOWNLOAD_NOT_AUDIO',
      `The episode's audio address (${url.host}) returned ${contentType?.split(';')[0]} instead of audio.`,
    );
  }
  const resumed = res.status === 206;
  if (resumed && !(res.headers.get('content-range') ?? '').startsWith(`bytes ${have}-`)) {
    await res.body?.cancel();
    fs.rmSync(part, { force: true });
    fs.rmSync(meta, { force: true });
    throw new IngestError(
      'DOWNLOAD_RANGE',
      `${url.host} resumed the download at the wrong place; Earshot will start it again.`,
    );
  }
  if (!resumed) have = 0;
  const length = Number(res.headers.get('content-length'));
  const total =
    Number.isFinite(length) && length > 0
      ? have + length
      : src.length && src.length > 0
        ? src.length
        : undefined;
  const tooLarge = (bytes: number) =>
    new IngestError(
      'DOWNLOAD_TOO_LARGE',
      `The episode's audio at ${url.host} is larger than Earshot expected (${bytes > cap ? 'over ' : ''}${Math.ceil(cap / MB)} MB for ${src.length ? `a file its feed says is ${Math.ceil(src.length / MB)} MB` : 'an episode of this length'}); Earshot stopped the download. Tell the publisher if the file is really that large.`,
    );
  if (total !== undefined && total > cap && Number.isFinite(length) && length > 0) {
    await res.body?.cancel();
    throw tooLarge(total);
  }
  const need = (total ?? 0) - have + 64 * MB;
  const free = freeBytes(mediaDir);
  if (free < need) {
    await res.body?.cancel();
    throw new IngestError(
      'DISK_FULL',
      `Not enough free disk space for this episode (it needs about ${Math.ceil(need / MB)} MB, ${Math.floor(free / MB)} MB are free). Free some space; Earshot will try again.`,
    );
  }
  fs.writeFileSync(
    meta,
    JSON.stringify({
      url: src.url,
      validator: res.headers.get('etag') ?? res.headers.get('last-modified') ?? undefined,
    }),
  );
  let bytes = have;
  let lastReport = 0;
  const started = Date.now();
  const overCap = new AbortController();
  try {
    await streamToFile(res.body!, part, {
      append: resumed,
      signal: AbortSignal.any([ctx.signal, overCap.signal]),
      onChunk: (chunk) => {
        bytes += chunk.length;
        // Counted as written, after any decompression: an endless body or a gzip bomb stops here.
        if (bytes > cap && !overCap.signal.aborted) overCap.abort();
        const now = Date.now();
        if (now - lastReport > 250) {
          lastReport = now;
          const rate = Math.round((bytes - have) / Math.max(0.001, (now - started) / 1000));
          ctx.progress(total ? Math.min(1, bytes / total) : 0, { bytes, total: total ?? null, rate } as Json);
        }
      },
    });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    if (overCap.signal.aborted) throw tooLarge(bytes);
    throw describeNetworkError(err, url, idleMs);
  }
  if (Number.isFinite(length) && length > 0 && bytes !== have + length) {
    throw new IngestError(
      'DOWNLOAD_SHORT',
      `The download from ${url.host} ended early (${bytes} of ${have + length} bytes); Earshot will resume it.`,
    );
  }
  const target = mediaPath(ctx.dataDir, input.key, contentType, src.url);
  commitFile(part, target);
  fs.rmSync(meta, { force: true });
  ctx.progress(1, { bytes, total: bytes, rate: 0 });
  return { path: target, bytes, contentType, url: src.url };
}

/** Errors worth trying the next source for: the file is missing, not audio, or not allowed here. */
function tryNext(err: unknown): boolean {
  return (
    err instanceof IngestError &&
    [
      'HTTP_404',
      'HTTP_410',
      'HTTP_DENIED',
      'DOWNLOAD_NOT_AUDIO',
      'HTTP_STATUS',
      'HTTP_DNS',
      ...PERMANENT,
    ].includes(err.code)
  );
}

/** Errors that no retry can fix: the address is not allowed, or the file is not what it should be. */
const PERMANENT = ['HTTP_PRIVATE', 'HTTP_SCHEME', 'DOWNLOAD_TOO_LARGE'];

/** An imported file is copied into the library (so moving the original later loses nothing). */
async function copyLocal(
  ctx: TypedStepContext<DownloadInput>,
  input: DownloadInput,
): Promise<DownloadOutput> {
  const source = input.localPath!;
  const target = path.join(ctx.dataDir, 'media', `${input.key}${path.extname(source).toLowerCase()}`);
  // A browser's upload (uploads/, see `earshot serve`) is removed once copied: run again after
  // that, the copy in media/ is the file.
  const uploaded = insideDataDir(uploadsDir(ctx.dataDir), source);
  if (!fs.existsSync(source) && uploaded && input.sha256 && fs.existsSync(target)) {
    if ((await fileSha256(target)) === input.sha256)
      return {
        path: target,
        bytes: fs.statSync(target).size,
        contentType: null,
        url: pathToFileURL(source).href,
      };
  }
  if (!fs.existsSync(source)) {
    throw new PermanentStepError(
      `The imported file ${source} is no longer there; import it again from where it is now.`,
    );
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const part = `${target}.part`;
  const hash = createHash('sha256');
  await streamToFile(fs.createReadStream(source), part, {
    append: false,
    signal: ctx.signal,
    onChunk: (chunk) => hash.update(chunk),
  });
  if (input.sha256 && hash.digest('hex') !== input.sha256) {
    fs.rmSync(part, { force: true });
    throw new PermanentStepError(`The file ${source} changed after you imported it; import it again.`);
  }
  commitFile(part, target);
  if (uploaded) fs.rmSync(path.dirname(source), { recursive: true, force: true });
  return {
    path: target,
    bytes: fs.statSync(target).size,
    contentType: null,
    url: pathToFileURL(source).href,
  };
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function safeProtocol(address: string): string {
  try {
    return new URL(address).protocol;
  } catch {
    return '';
  }
}

/** The download step: the enclosure first, then each alternate enclosure. Idempotent. */
export async function download(ctx: TypedStepContext<DownloadInput>): Promise<DownloadOutput> {
  try {
    return await downloadSources(ctx);
  } catch (err) {
    // Cancelled by the user: nothing will resume this download (a shutdown keeps it for the next run).
    const reason = ctx.signal.reason as { message?: unknown } | undefined;
    if (ctx.signal.aborted && reason?.message === 'cancelled') removePartial(ctx.dataDir, ctx.input.key);
    throw err;
  }
}

async function downloadSources(ctx: TypedStepContext<DownloadInput>): Promise<DownloadOutput> {
  const input = ctx.input;
  if (input?.localPath) return copyLocal(ctx, input);
  if (!input?.sources?.length) {
    throw new PermanentStepError(
      'This episode has no audio address in its feed, so there is nothing to download.',
    );
  }
  // Refused at once, not retried: an audio address that is not http(s) (file:, ftp:, javascript:, …).
  const web = input.sources.filter((s) => /^https?:$/i.test(safeProtocol(s.url)));
  if (web.length === 0) {
    const bad = input.sources[0]!.url;
    throw new PermanentStepError(
      `The episode's audio address is not a web address (${safeProtocol(bad) || 'unreadable'} ${bad.slice(0, 80)}); Earshot downloads only http and https.`,
    );
  }
  const existing = fs.existsSync(path.join(ctx.dataDir, 'media'))
    ? fs
        .readdirSync(path.join(ctx.dataDir, 'media'))
        .find((f) => f.startsWith(`${input.key}.`) && !f.includes('.part'))
    : undefined;
  if (existing) {
    // Done before (a crash after the rename): nothing to fetch again.
    const p = path.join(ctx.dataDir, 'media', existing);
    return {
      path: p,
      bytes: fs.statSync(p).size,
      contentType: null,
      url: input.sources[0]!.url,
    } satisfies DownloadOutput;
  }
  let first: unknown;
  for (const src of web) {
    try {
      return await fetchSource(ctx, input, src);
    } catch (err) {
      first ??= err;
      if (!tryNext(err)) throw err;
    }
  }
  const e = first as IngestError;
  if (['HTTP_404', 'HTTP_410', 'DOWNLOAD_NOT_AUDIO', ...PERMANENT].includes(e.code)) {
    // The episode is dead-lettered now: nothing will resume its partial file.
    removePartial(ctx.dataDir, input.key);
    throw new PermanentStepError(e.message);
  }
  throw e;
}
