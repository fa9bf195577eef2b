import path from 'node:path';
import type { TypedStepContext } from '../engine/workflow.ts';
import { writeJsonArtifact } from '../base/artifacts.ts';
import { fetchDocument } from '../ingest/http.ts';
import { decodeFeedBytes } from '../ingest/decode-text.ts';
import { IngestError } from '../ingest/errors.ts';
import {
  FORMAT_PREFERENCE,
  parseChaptersJson,
  parseTranscript,
  transcriptFormat,
  type ChapterEntry,
  type Transcript,
} from '../ingest/transcripts.ts';
import type { Chapter, TranscriptRef } from '../ingest/feed-parse.ts';

export interface PublisherInput {
  key: string;
  transcripts?: TranscriptRef[];
  chaptersUrl?: { url: string; type?: string } | null;
  podloveChapters?: Chapter[];
  /** The hand-subscribed feed's host: the one private host these files may come from. */
  trustedHost?: string | null;
}

export interface PublisherOutput {
  transcript: { path: string; format: string; segments: number } | null;
  chapters: { path: string; count: number } | null;
  /** What could not be used, for the user (the episode still gets a Whisper transcript). */
  problems: string[];
  /**
   * Optional parts that were skipped (chapters that would not load), one sentence each: the
   * commit records them on the episode, where the failure inbox shows them.
   */
  skipped?: string[];
}

const MAX = 32 * 1024 * 1024;

async function fetchText(
  url: string,
  signal: AbortSignal,
  what: 'transcript' | 'chapters file',
  trustedHost: string | null,
): Promise<{ text: string; contentType: string | null }> {
  const r = await fetchDocument(url, { signal, maxBytes: MAX, timeoutMs: 120_000, what, trustedHost });
  return { text: decodeFeedBytes(r.body, r.contentType).text, contentType: r.contentType };
}

/** Unusable content is a problem to report, not a reason to fail the episode; network trouble is retried. */
function unusable(err: unknown): boolean {
  return (
    err instanceof IngestError && !/^HTTP_(TIMEOUT|IDLE|RESET|REFUSED|5XX|429|FAILED|DNS)$/.test(err.code)
  );
}

/**
 * Fetch the publisher's transcript (the best format offered) and chapters, and store them in
 * Earshot's formats. Idempotent: files are written whole under the episode key.
 */
export async function publisherTranscript(ctx: TypedStepContext<PublisherInput>): Promise<PublisherOutput> {
  const input = ctx.input;
  const out: PublisherOutput = { transcript: null, chapters: null, problems: [], skipped: [] };
  const offered = [...(input.transcripts ?? [])].sort((a, b) => rank(a.type) - rank(b.type));
  for (const ref of offered) {
    try {
      const { text, contentType } = await fetchText(
        ref.url,
        ctx.signal,
        'transcript',
        input.trustedHost ?? null,
      );
      const format = transcriptFormat(ref.type, text) ?? transcriptFormat(contentType ?? '', text);
      if (!format) throw new IngestError('TRANSCRIPT_TYPE', `Earshot does not read ${ref.type} transcripts.`);
      const transcript: Transcript = parseTranscript(text, format, { url: ref.url, language: ref.language });
      const file = path.join(ctx.dataDir, 'transcripts', `${input.key}.publisher.json`);
      writeJsonArtifact(file, transcript);
      out.transcript = { path: file, format, segments: transcript.segments.length };
      break;
    } catch (err) {
      if (!unusable(err)) throw err;
      out.problems.push(`transcript ${ref.url}: ${(err as Error).message}`);
    }
  }
  let chapters: ChapterEntry[] = (input.podloveChapters ?? []).map((c) => ({
    startMs: c.startMs,
    title: c.title,
    ...(c.href ? { url: c.href } : {}),
    ...(c.image ? { image: c.image } : {}),
  }));
  if (input.chaptersUrl) {
    // Chapters are optional: whatever goes wrong (no answer, a server error, a file that is not
    // chapters), they are skipped and the episode goes on; the note says why.
    try {
      chapters = parseChaptersJson(
        (await fetchText(input.chaptersUrl.url, ctx.signal, 'chapters file', input.trustedHost ?? null)).text,
      );
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const note = `Chapters skipped: ${(err as Error).message.replace(/\.$/, '')} (${input.chaptersUrl.url}).`;
      out.problems.push(`chapters ${input.chaptersUrl.url}: ${(err as Error).message}`);
      out.skipped!.push(note);
    }
  }
  if (chapters.length > 0) {
    const file = path.join(ctx.dataDir, 'chapters', `${input.key}.json`);
    writeJsonArtifact(file, { schemaVersion: 1, chapters });
    out.chapters = { path: file, count: chapters.length };
  }
  return out;
}

function rank(type: string): number {
  const f = transcriptFormat(type);
  return f ? FORMAT_PREFERENCE.indexOf(f) : FORMAT_PREFERENCE.length;
}
