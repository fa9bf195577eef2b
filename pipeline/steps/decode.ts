import path from 'node:path';
import fs from 'node:fs';
import type { TypedStepContext } from '../engine/workflow.ts';
import { PermanentStepError } from '../engine/workflow.ts';
import { decodeToPcm } from '../ingest/ffmpeg.ts';
import { IngestError } from '../ingest/errors.ts';
import type { EpisodeInput } from '../episode-input.ts';

export interface DecodeOutput {
  /** The decoded PCM; null when the publisher's transcript made it unnecessary. */
  path: string | null;
  samples: number;
  durationMs: number | null;
  skipped?: string;
}

/** Decode the episode's audio to 16 kHz mono PCM for Whisper (pcm/<key>.pcm). Idempotent. */
export async function decode(ctx: TypedStepContext<EpisodeInput>): Promise<DecodeOutput> {
  const { publisherCovers } = await import('./transcribe.ts');
  if (publisherCovers(ctx.input, ctx.outputs))
    return { path: null, samples: 0, durationMs: null, skipped: "the publisher's transcript is used" };
  const audio = (ctx.outputs.download as { path?: string } | undefined)?.path;
  const key = ctx.input.key;
  if (!audio || !fs.existsSync(audio))
    throw new PermanentStepError('The downloaded audio is missing; retry the episode from its download.');
  const target = path.join(ctx.dataDir, 'pcm', `${key}.pcm`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try {
    const r = await decodeToPcm(audio, target, {
      signal: ctx.signal,
      onProgress: (ms) => ctx.progress(0, { decodedMs: ms }),
    });
    return { path: r.path, samples: r.samples, durationMs: r.durationMs };
  } catch (err) {
    // A file ffmpeg cannot read will not become readable by retrying.
    if (err instanceof IngestError) throw new PermanentStepError(err.message);
    throw err;
  }
}
