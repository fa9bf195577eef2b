import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/**
 * Stream a fetch response body (or a file's read stream) into a file (appended to when resuming a partial download),
 * showing each chunk to `onChunk` on its way (byte counts, hashes, progress). Shared by episode
 * downloads, imported-file copies and model installs; each decides what a short or failed
 * transfer means.
 */
export async function streamToFile(
  body: ReadableStream<Uint8Array> | Readable,
  file: string,
  options: { append: boolean; signal?: AbortSignal; onChunk: (chunk: Buffer) => void },
): Promise<void> {
  const watch = new Transform({
    transform(chunk: Buffer, _enc, done) {
      options.onChunk(chunk);
      done(null, chunk);
    },
  });
  await pipeline(
    body instanceof Readable ? body : Readable.fromWeb(body as WebReadableStream),
    watch,
    fs.createWriteStream(file, { flags: options.append ? 'a' : 'w' }),
    ...(options.signal ? [{ signal: options.signal }] : []),
  );
}
