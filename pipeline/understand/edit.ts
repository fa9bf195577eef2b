import fs from 'node:fs';
import type { Db } from '../store/db.ts';
import type { Queue } from '../engine/queue.ts';
import type { Transcript } from '../ingest/transcripts.ts';
import { writeJsonArtifact } from '../base/artifacts.ts';

export class EditError extends Error {}

export interface SegmentEdit {
  episodeId: number;
  index: number;
  workflowId: string;
  /** The steps queued again (understanding and what follows it). */
  rerun: string[];
}

/**
 * A user's correction of one transcript segment. The transcript file is rewritten whole (temp
 * file + rename), then the episode's workflow re-runs every step after the one that wrote the
 * transcript (understanding, search indexing…), not transcription: quotes, offsets and
 * timestamps are made again from the corrected text. A later change of Whisper model makes a
 * new transcript, and with it, drops the edit.
 */
export function editSegment(
  db: Db,
  queue: Queue,
  episodeId: number,
  index: number,
  text: string,
): SegmentEdit {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (!clean) throw new EditError('A segment cannot be empty; give the corrected text.');
  const ep = db.prepare('SELECT key FROM episodes WHERE id = ?').get(episodeId) as
    { key: string } | undefined;
  if (!ep) throw new EditError(`There is no episode ${episodeId}; \`earshot episodes\` lists them.`);
  const art = db
    .prepare(`SELECT path FROM artifacts WHERE episode_id = ? AND kind = 'transcript'`)
    .get(episodeId) as { path: string } | undefined;
  if (!art) throw new EditError(`Episode ${episodeId} has no transcript yet to correct.`);
  const wf = db
    .prepare(
      `SELECT id, seq, status FROM workflows WHERE kind = 'episode' AND subject = ? ORDER BY seq DESC LIMIT 1`,
    )
    .get(ep.key) as { id: string; seq: number; status: string } | undefined;
  if (!wf) throw new EditError(`Episode ${episodeId} has never been processed.`);
  if (wf.status === 'running')
    throw new EditError(
      `Episode ${episodeId} is being processed right now; correct the transcript once it is done.`,
    );
  const steps = db
    .prepare('SELECT name, position FROM steps WHERE wf_seq = ? ORDER BY position')
    .all(wf.seq) as { name: string; position: number }[];
  const writer = steps.find((s) => s.name === 'transcribe');
  const from = steps.find((s) => writer && s.position > writer.position);
  if (!from)
    throw new EditError(`Episode ${episodeId}'s pipeline has no step after transcription to re-run.`);
  const transcript = JSON.parse(fs.readFileSync(art.path, 'utf8')) as Transcript;
  if (!Number.isInteger(index) || index < 0 || index >= transcript.segments.length)
    throw new EditError(
      `Segment ${index} does not exist; this transcript has segments 0 to ${transcript.segments.length - 1}.`,
    );
  transcript.segments[index] = { ...transcript.segments[index]!, text: clean };
  writeJsonArtifact(art.path, { ...transcript, edited: true });
  queue.retry(wf.id, from.name);
  return {
    episodeId,
    index,
    workflowId: wf.id,
    rerun: steps.filter((s) => s.position >= from.position).map((s) => s.name),
  };
}
