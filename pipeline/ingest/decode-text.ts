import zlib from 'node:zlib';
import iconv from 'iconv-lite';
import chardet from 'chardet';
import { IngestError } from './errors.ts';

/**
 * A feed served gzipped without saying so (Content-Type application/gzip, no Content-Encoding:
 * fetch leaves it compressed) is unpacked; anything else is returned as it is. At most
 * `maxBytes` (default 64 MiB) unpacked, like any feed.
 */
export function gunzipIfCompressed(bytes: Buffer, maxBytes = 64 * 1048576): Buffer {
  if (bytes.length < 3 || bytes[0] !== 0x1f || bytes[1] !== 0x8b || bytes[2] !== 0x08) return bytes;
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new IngestError(
      'FEED_GZIP',
      (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
        ? `The feed unpacks to more than ${Math.round(maxBytes / 1048576)} MiB, which is more than any podcast feed needs; Earshot did not read it.`
        : `The feed is a gzip file that does not unpack (${(err as Error).message}); tell the publisher.`,
    );
  }
}

/**
 * Bytes of a feed → text. Order of trust: a byte-order mark, then the XML declaration, then the
 * HTTP charset, then a statistical guess; UTF-8 when nothing else says otherwise.
 */
export function decodeFeedBytes(
  bytes: Buffer,
  httpContentType?: string | null,
): { text: string; encoding: string } {
  const bom = bomEncoding(bytes);
  const declared = bom ?? xmlDeclaredEncoding(bytes) ?? charsetOf(httpContentType);
  let encoding = declared && iconv.encodingExists(declared) ? declared : undefined;
  if (!encoding) {
    if (isValidUtf8(bytes)) encoding = 'utf-8';
    else encoding = sniff(bytes) ?? 'windows-1252';
  }
  // A feed declared UTF-8 that is not: fall back to the guess instead of mojibake.
  if (/^utf-?8$/i.test(encoding) && !bom && !isValidUtf8(bytes)) {
    const guess = sniff(bytes);
    if (guess && !/^utf-?8$/i.test(guess)) encoding = guess;
  }
  return { text: iconv.decode(bytes, encoding, { stripBOM: true }), encoding: encoding.toLowerCase() };
}

/** Guess from the text between the tags: markup is ASCII and only dilutes the statistics. */
function sniff(b: Buffer): string | undefined {
  const sample = Buffer.from(
    b
      .subarray(0, 65536)
      .toString('latin1')
      .replace(/<[^>]*>/g, ' '),
    'latin1',
  );
  const guess = chardet.detect(sample);
  return guess && iconv.encodingExists(guess) ? guess : undefined;
}

function bomEncoding(b: Buffer): string | undefined {
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf-8';
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  return undefined;
}

function xmlDeclaredEncoding(b: Buffer): string | undefined {
  // UTF-16 without BOM shows as "<\0?\0x\0" — read the declaration as latin1 with NULs dropped.
  const head = b.subarray(0, 256).toString('latin1').replace(/\0/g, '');
  return /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1];
}

function charsetOf(contentType?: string | null): string | undefined {
  return contentType ? /charset\s*=\s*"?([A-Za-z0-9._-]+)/i.exec(contentType)?.[1] : undefined;
}

function isValidUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}
