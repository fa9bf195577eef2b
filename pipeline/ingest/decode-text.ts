import iconv from 'iconv-lite';
import chardet from 'chardet';

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
