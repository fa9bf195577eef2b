/**
 * The bytes the player and the pictures need, served from Earshot's own origin so the page's
 * Content-Security-Policy stays `'self'`: `/media/ID` (the episode's downloaded file with HTTP
 * Range, else the publisher's enclosure streamed through, Range passed on) and
 * `/artwork/feed/ID`, `/artwork/episode/ID` (the show's or episode's picture, fetched once and
 * kept in `<data dir>/artwork`). Two halves: `AssetSources` reads the library (which file, or
 * which address) and fetches artwork into the cache, where the library is (the API's
 * `assetSource`); `respondAsset` turns a source into a web-standard Response (the file with
 * Range, or the publisher's bytes streamed through) and reads no library, so the desktop app's
 * main process answers `earshot://` with it while the library lives in its service process.
 * `Assets` joins the two in a process that has both (`earshot serve`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { parse as parseRange } from 'range-parser';
import type { Db } from '../store/db.ts';
import { fetchDocument, USER_AGENT } from '../ingest/http.ts';
import { guardedFetch, hostOf } from '../ingest/net-policy.ts';
import type { AssetSource } from '../api/contract.ts';

/** How a publisher's file is fetched to stream it through. */
export type StreamFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; signal: AbortSignal },
  trustedHost: string | null,
) => Promise<Response>;

const defaultStreamFetch: StreamFetch = (url, init, trustedHost) =>
  guardedFetch(url, { ...init, redirect: 'follow' }, { trustedHost });

export interface AssetOptions {
  db: Db;
  dataDir: string;
  /** For tests: how the enclosure is fetched. Default guardedFetch (public hosts, and the feed's own). */
  fetch?: StreamFetch;
  /** For tests: how artwork is fetched. Default fetchDocument (redirects, size cap, timeout). */
  fetchImage?: (url: string) => Promise<Buffer>;
  now?: () => number;
}

const AUDIO_TYPES: Record<string, string> = {
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.m4b': 'audio/mp4',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.aac': 'audio/aac',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.flac': 'audio/flac',
  '.wav': 'audio/wav',
  '.webm': 'audio/webm',
  '.mkv': 'video/x-matroska',
  '.mov': 'video/quicktime',
};

const IMAGE_TYPES = {
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
} as const;
type ImageExt = keyof typeof IMAGE_TYPES;

/** Artwork at most this big is kept (podcast artwork is at most 3000 × 3000, a few MB). */
const MAX_ARTWORK_BYTES = 10 * 1024 * 1024;
/** After a failed artwork fetch, the picture is not asked for again for this long. */
const ARTWORK_RETRY_MS = 60 * 60 * 1000;

/** What the file's first bytes say it is; null for anything but the raster formats pages show (never SVG). */
export function sniffImage(bytes: Buffer): ImageExt | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpg';
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'png';
  if (bytes.subarray(0, 4).toString('latin1') === 'GIF8') return 'gif';
  if (
    bytes.subarray(0, 4).toString('latin1') === 'RIFF' &&
    bytes.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'webp';
  if (
    bytes.subarray(4, 8).toString('latin1') === 'ftyp' &&
    /^avi[fs]$/.test(bytes.subarray(8, 12).toString('latin1'))
  )
    return 'avif';
  return null;
}

function text(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(message, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

const isHttp = (u: string | null | undefined): u is string =>
  typeof u === 'string' && /^https?:\/\//i.test(u);

/** Which bytes a `/media/…` or `/artwork/…` path means, read from the library. */
export class AssetSources {
  private readonly options: AssetOptions;
  private readonly inFlight = new Map<string, Promise<string | null>>();
  private readonly failedAt = new Map<string, number>();
  constructor(options: AssetOptions) {
    this.options = options;
  }

  /** Whether a path is one of these routes (the server sends everything else elsewhere). */
  static handles(pathname: string): boolean {
    return /^\/(media|artwork)\//.test(pathname);
  }

  async source(pathname: string): Promise<AssetSource> {
    let m = /^\/media\/(\d+)$/.exec(pathname);
    if (m) return this.media(Number(m[1]));
    m = /^\/artwork\/(feed|episode)\/(\d+)$/.exec(pathname);
    if (m) return this.artwork(m[1] as 'feed' | 'episode', Number(m[2]));
    return missing('There is nothing here.');
  }

  private media(episodeId: number): AssetSource {
    const ep = this.options.db
      .prepare(
        `SELECT e.enclosure_url, e.enclosure_type, e.extra, f.url AS feed_url,
           (SELECT path FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'audio') AS audio
         FROM episodes e LEFT JOIN feeds f ON f.id = e.feed_id WHERE e.id = ?`,
      )
      .get(episodeId) as
      | {
          enclosure_url: string | null;
          enclosure_type: string | null;
          extra: string;
          feed_url: string | null;
          audio: string | null;
        }
      | undefined;
    if (!ep) return missing(`There is no episode ${episodeId}.`);
    const localPath = (JSON.parse(ep.extra) as { localPath?: string }).localPath;
    // The downloaded copy first (it plays offline), then an imported file where it was found.
    for (const file of [ep.audio, localPath]) {
      if (!file) continue;
      let stat: fs.Stats;
      try {
        stat = fs.statSync(file);
      } catch {
        continue;
      }
      if (stat.isFile()) return { kind: 'file', path: file, contentType: audioType(file, ep.enclosure_type) };
    }
    if (!isHttp(ep.enclosure_url))
      return missing(`Episode ${episodeId} has no audio on this computer and no address to stream it from.`);
    // The feed's own host is the one private address its enclosure may be on (net-policy.ts).
    return { kind: 'remote', url: ep.enclosure_url, trustedHost: hostOf(ep.feed_url) };
  }

  /** The picture's address, and the host of its feed (the one private host it may be on). */
  private artworkUrl(
    kind: 'feed' | 'episode',
    id: number,
  ): { url: string; trustedHost: string | null } | null {
    const db = this.options.db;
    if (kind === 'feed') {
      const f = db.prepare('SELECT image_url, url FROM feeds WHERE id = ?').get(id) as
        { image_url: string | null; url: string } | undefined;
      return isHttp(f?.image_url) ? { url: f.image_url, trustedHost: hostOf(f.url) } : null;
    }
    const e = db
      .prepare(
        `SELECT json_extract(e.extra, '$.imageUrl') AS own, f.image_url AS show, f.url AS feed
           FROM episodes e LEFT JOIN feeds f ON f.id = e.feed_id WHERE e.id = ?`,
      )
      .get(id) as { own: string | null; show: string | null; feed: string | null } | undefined;
    const url = isHttp(e?.own) ? e.own : isHttp(e?.show) ? e.show : null;
    return url ? { url, trustedHost: hostOf(e?.feed) } : null;
  }

  private cached(hash: string): { file: string; ext: ImageExt } | null {
    for (const ext of Object.keys(IMAGE_TYPES) as ImageExt[]) {
      const file = path.join(this.options.dataDir, 'artwork', `${hash}.${ext}`);
      if (fs.existsSync(file)) return { file, ext };
    }
    return null;
  }

  /** Fetch a picture once (callers at the same time share the fetch) and keep it; null when it cannot be had. */
  private fetchArtwork(url: string, trustedHost: string | null, hash: string): Promise<string | null> {
    let pending = this.inFlight.get(hash);
    if (pending) return pending;
    pending = (async () => {
      try {
        const body = this.options.fetchImage
          ? await this.options.fetchImage(url)
          : (
              await fetchDocument(url, {
                what: 'artwork',
                maxBytes: MAX_ARTWORK_BYTES,
                timeoutMs: 20_000,
                trustedHost,
              })
            ).body;
        const ext = sniffImage(body);
        if (!ext || body.length > MAX_ARTWORK_BYTES) throw new Error('not a picture Earshot shows');
        const dir = path.join(this.options.dataDir, 'artwork');
        fs.mkdirSync(dir, { recursive: true });
        const file = path.join(dir, `${hash}.${ext}`);
        const aside = `${file}.${process.pid}.part`;
        fs.writeFileSync(aside, body);
        fs.renameSync(aside, file);
        return file;
      } catch {
        this.failedAt.set(hash, (this.options.now ?? Date.now)());
        return null;
      } finally {
        this.inFlight.delete(hash);
      }
    })();
    this.inFlight.set(hash, pending);
    return pending;
  }

  private async artwork(kind: 'feed' | 'episode', id: number): Promise<AssetSource> {
    const art = this.artworkUrl(kind, id);
    if (!art) return missing(`There is no artwork for this ${kind === 'feed' ? 'show' : 'episode'}.`);
    const hash = createHash('sha256').update(art.url).digest('hex').slice(0, 32);
    let hit = this.cached(hash);
    if (!hit) {
      const failed = this.failedAt.get(hash);
      if (failed !== undefined && (this.options.now ?? Date.now)() - failed < ARTWORK_RETRY_MS)
        return missing('The artwork could not be fetched; Earshot will try again later.');
      await this.fetchArtwork(art.url, art.trustedHost, hash);
      hit = this.cached(hash);
      if (!hit) return missing('The artwork could not be fetched; Earshot will try again later.');
    }
    return { kind: 'image', path: hit.file, contentType: IMAGE_TYPES[hit.ext], etag: `"${hash}"` };
  }
}

function missing(message: string): AssetSource {
  return { kind: 'missing', message };
}

function audioType(file: string, declaredType: string | null): string {
  return (
    AUDIO_TYPES[path.extname(file).toLowerCase()] ??
    (declaredType && /^(audio|video)\//.test(declaredType) ? declaredType : 'application/octet-stream')
  );
}

/** Answer a request for an asset from where `source` says its bytes are. Reads no library. */
export async function respondAsset(
  source: AssetSource,
  request: Request,
  fetchImpl: StreamFetch = defaultStreamFetch,
): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return text(405, 'Media and artwork are read with GET.', { allow: 'GET, HEAD' });
  switch (source.kind) {
    case 'missing':
      return text(404, source.message);
    case 'file': {
      const size = fs.statSync(source.path, { throwIfNoEntry: false })?.size;
      if (size === undefined) return text(404, 'This file is no longer on this computer.');
      return fileResponse(source.path, size, request, source.contentType);
    }
    case 'remote':
      return streamResponse(source.url, source.trustedHost, request, fetchImpl);
    case 'image': {
      const headers = {
        'content-type': source.contentType,
        'cache-control': 'private, max-age=86400',
        etag: source.etag,
        'x-content-type-options': 'nosniff',
      };
      if (request.headers.get('if-none-match') === source.etag)
        return new Response(null, { status: 304, headers });
      let body: Buffer;
      try {
        body = fs.readFileSync(source.path);
      } catch {
        return text(404, 'The artwork could not be read; Earshot will fetch it again.');
      }
      return new Response(request.method === 'HEAD' ? null : body, {
        status: 200,
        headers: { ...headers, 'content-length': String(body.length) },
      });
    }
  }
}

/** A file with HTTP Range, so the player can seek without reading what comes before. */
function fileResponse(file: string, size: number, request: Request, type: string): Response {
  const headers: Record<string, string> = {
    'content-type': type,
    'accept-ranges': 'bytes',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  };
  let start = 0;
  let end = size - 1;
  let status = 200;
  const header = request.headers.get('range');
  if (header) {
    const parsed = parseRange(size, header);
    // A malformed Range, or several ranges, is answered with the whole file (RFC 9110 allows it).
    if (parsed.type === 'bytes' && (parsed.code & 1) === 0) {
      if (parsed.ranges.length === 0)
        return text(416, 'That range is past the end of the file.', {
          'content-range': `bytes */${size}`,
        });
      if (parsed.ranges.length === 1) {
        start = parsed.ranges[0]!.start;
        end = parsed.ranges[0]!.end;
        status = 206;
        headers['content-range'] = `bytes ${start}-${end}/${size}`;
      }
    }
  }
  headers['content-length'] = String(size === 0 ? 0 : end - start + 1);
  if (request.method === 'HEAD' || size === 0) return new Response(null, { status, headers });
  const body = Readable.toWeb(fs.createReadStream(file, { start, end })) as ReadableStream<Uint8Array>;
  return new Response(body, { status, headers });
}

/** The publisher's file, streamed through as it arrives, the player's Range passed on. */
async function streamResponse(
  url: string,
  trustedHost: string | null,
  request: Request,
  fetchImpl: StreamFetch,
): Promise<Response> {
  const headers: Record<string, string> = {
    'user-agent': USER_AGENT,
    accept: '*/*',
    // The bytes as stored: a compressed transfer would break ranges and lengths.
    'accept-encoding': 'identity',
  };
  const range = request.headers.get('range');
  if (range) headers.range = range;
  let upstream: Response;
  try {
    upstream = await fetchImpl(url, { method: request.method, headers, signal: request.signal }, trustedHost);
  } catch (err) {
    const host = new URL(url).host;
    return text(
      502,
      `Earshot could not reach ${host} to stream this episode (${(err as Error).message}). Check your connection; once the episode is downloaded it plays offline.`,
    );
  }
  if (!upstream.ok && upstream.status !== 416) {
    await upstream.body?.cancel();
    return text(
      502,
      `The publisher's server answered ${upstream.status} for this episode's audio; Earshot cannot stream it now.`,
    );
  }
  const out: Record<string, string> = { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
  for (const h of [
    'content-type',
    'content-length',
    'content-range',
    'accept-ranges',
    'last-modified',
    'etag',
  ]) {
    const v = upstream.headers.get(h);
    if (v) out[h] = v;
  }
  if (out['content-type'] && !/^(audio|video)\/|^application\/octet-stream/i.test(out['content-type'])) {
    await upstream.body?.cancel();
    return text(502, `The publisher sent ${out['content-type']} instead of audio for this episode.`);
  }
  return new Response(request.method === 'HEAD' ? null : upstream.body, {
    status: upstream.status,
    headers: out,
  });
}

/** Both halves in one process (`earshot serve`, tests): the library read here, then answered. */
export class Assets {
  readonly sources: AssetSources;
  private readonly fetchImpl: StreamFetch | undefined;
  constructor(options: AssetOptions) {
    this.sources = new AssetSources(options);
    this.fetchImpl = options.fetch;
  }

  async respond(request: Request): Promise<Response> {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return respondAsset(missing('Media and artwork are read with GET.'), request);
    return respondAsset(await this.sources.source(new URL(request.url).pathname), request, this.fetchImpl);
  }
}
