import pLimit, { type LimitFunction } from 'p-limit';
import { IngestError } from './errors.ts';
import { networkProblem, USER_AGENT } from '../base/net.ts';
import {
  checkScheme,
  DEFAULT_IDLE_MS,
  guardedFetch,
  privateAddressError,
  privateCause,
} from './net-policy.ts';

export { USER_AGENT };

export interface FetchOptions {
  etag?: string | null;
  lastModified?: string | null;
  /** Whole request, body included, in ms. Default 30000. */
  timeoutMs?: number;
  /** Larger bodies are refused, in bytes. Default 64 MiB (feeds with thousands of items are big). */
  maxBytes?: number;
  /** Redirects followed before giving up. Default 10. */
  maxRedirects?: number;
  signal?: AbortSignal;
  /** Requests in flight per host. Default 2. */
  perHost?: number;
  /**
   * The host the user subscribed to by hand: the only loopback/private host this request may
   * reach (see net-policy.ts). Default none.
   */
  trustedHost?: string | null;
  /** No byte for this long fails the request, in ms. Default 30 s. */
  idleMs?: number;
}

export interface FetchResult {
  status: 'ok' | 'not-modified';
  /** Where the body finally came from. */
  url: string;
  /** Set when every redirect on the way was permanent (301/308): the subscription should move. */
  movedTo?: string;
  body: Buffer;
  contentType: string | null;
  etag: string | null;
  lastModified: string | null;
}

const limiters = new Map<string, LimitFunction>();
function limiter(host: string, n: number): LimitFunction {
  let l = limiters.get(host);
  if (!l) {
    l = pLimit(n);
    limiters.set(host, l);
  }
  return l;
}

export function describeNetworkError(err: unknown, url: URL, idleMs = DEFAULT_IDLE_MS): IngestError {
  if (err instanceof IngestError) return err;
  const blocked = privateCause(err);
  if (blocked) return privateAddressError(url, blocked.address, err);
  const p = networkProblem(err, url, idleMs);
  return new IngestError(p.code, p.message, { cause: err });
}

/** What was being fetched, in the words an error message uses. */
export type FetchSubject = 'feed' | 'episode audio' | 'transcript' | 'chapters file' | 'artwork';

export function describeStatus(status: number, url: URL, what: FetchSubject = 'feed'): IngestError {
  const host = url.host;
  const isFeed = what === 'feed';
  if (status === 404) {
    return new IngestError(
      'HTTP_404',
      isFeed
        ? `${host} says this feed does not exist (404). Check the address.`
        : `${host} says this ${what} does not exist (404); the publisher may have moved or removed it.`,
    );
  }
  if (status === 410)
    return new IngestError('HTTP_410', `The publisher has removed this ${what} (410 Gone).`);
  if (status === 401 || status === 403) {
    return new IngestError(
      'HTTP_DENIED',
      isFeed
        ? `${host} refused access to this feed (${status}). A private feed needs its full address, with its token.`
        : `${host} refused access to this ${what} (${status}).`,
    );
  }
  if (status === 429)
    return new IngestError('HTTP_429', `${host} asked Earshot to slow down (429); it will try again later.`);
  if (status >= 500)
    return new IngestError(
      'HTTP_5XX',
      `The podcast's server had a problem (HTTP ${status}); Earshot will try again later.`,
    );
  return new IngestError('HTTP_STATUS', `${host} answered HTTP ${status} instead of the ${what}.`);
}

/** Read a body up to `max` bytes, refusing more. */
async function readCapped(res: Response, max: number, url: URL, what: FetchSubject): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  // The body is counted as it comes out of the decompressor: a small gzip bomb meets the same cap.
  const tooBig = () =>
    new IngestError(
      'HTTP_TOO_LARGE',
      `The ${what} at ${url.host} is larger than ${Math.round(max / 1048576)} MiB (uncompressed), which is more than any podcast ${what} needs; Earshot did not read it.`,
    );
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    throw tooBig();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > max) {
      throw tooBig();
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * GET a feed (or any small document) the way a polite podcast app does: conditional request,
 * compressed transfer, redirects followed by hand so a permanent move can update the
 * subscription and a loop stops, a timeout, a size cap, and a limit per host.
 */
export async function fetchDocument(
  address: string,
  options: FetchOptions & { what?: FetchSubject } = {},
): Promise<FetchResult> {
  let url = new URL(address);
  const seen = new Set<string>([url.href]);
  let allPermanent = true;
  const maxRedirects = options.maxRedirects ?? 10;
  for (let hop = 0; ; hop++) {
    checkScheme(url, options.what ?? 'feed');
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      accept: 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5',
      'accept-encoding': 'gzip, deflate, br',
    };
    if (options.etag) headers['if-none-match'] = options.etag;
    if (options.lastModified) headers['if-modified-since'] = options.lastModified;
    const current = url;
    const result = await limiter(
      current.host,
      options.perHost ?? 2,
    )(async () => {
      // The clock starts when the request does, not while it waits for its turn on the host.
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      let res: Response;
      try {
        res = await guardedFetch(
          current,
          { headers, redirect: 'manual', signal },
          { trustedHost: options.trustedHost, idleMs: options.idleMs },
        );
      } catch (err) {
        throw describeNetworkError(err, current, options.idleMs);
      }
      if (res.status >= 300 && res.status < 400 && res.status !== 304) {
        await res.body?.cancel();
        return { redirect: res.headers.get('location'), permanent: res.status === 301 || res.status === 308 };
      }
      if (res.status === 304) {
        await res.body?.cancel();
        return { res, body: Buffer.alloc(0) };
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw describeStatus(res.status, current, options.what);
      }
      try {
        return {
          res,
          body: await readCapped(res, options.maxBytes ?? 64 * 1048576, current, options.what ?? 'feed'),
        };
      } catch (err) {
        if (err instanceof IngestError) throw err;
        throw describeNetworkError(err, current, options.idleMs);
      }
    });
    if ('redirect' in result) {
      if (!result.redirect)
        throw new IngestError('HTTP_REDIRECT', `${current.host} redirected without saying where to.`);
      const next = new URL(result.redirect, current);
      if (seen.has(next.href)) {
        throw new IngestError(
          'HTTP_REDIRECT_LOOP',
          `The feed address redirects in a loop (${current.host} → ${next.host} → …). Tell the publisher; Earshot stopped following it.`,
        );
      }
      if (hop + 1 > maxRedirects) {
        throw new IngestError(
          'HTTP_TOO_MANY_REDIRECTS',
          `The feed address redirected more than ${maxRedirects} times; Earshot stopped following it.`,
        );
      }
      allPermanent &&= result.permanent;
      seen.add(next.href);
      url = next;
      continue;
    }
    const { res, body } = result;
    return {
      status: res.status === 304 ? 'not-modified' : 'ok',
      url: url.href,
      movedTo: hop > 0 && allPermanent ? url.href : undefined,
      body,
      contentType: res.headers.get('content-type'),
      etag: res.headers.get('etag'),
      lastModified: res.headers.get('last-modified'),
    };
  }
}
