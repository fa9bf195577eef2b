import type { Db } from '../store/db.ts';
import type { Engine } from '../engine/engine.ts';
import type { DigestReadyEvent } from '../api/contract.ts';
import { DIGEST_KIND } from './schedule.ts';

const DAY = 86_400_000;

/** "5 stories from 12 episodes this week": one line for a notification. */
export function digestHeadline(d: { stories: number; episodes: number; from: number; to: number }): string {
  const span = d.to - d.from;
  const when =
    span === 7 * DAY ? ' this week' : span === DAY ? ' today' : span === 30 * DAY ? ' this month' : '';
  return `${d.stories} ${d.stories === 1 ? 'story' : 'stories'} from ${d.episodes} episode${d.episodes === 1 ? '' : 's'}${when}`;
}

/**
 * Call `emit` when a scheduled digest workflow has committed (its row is in `digests`): the
 * `onDigestReady` event, for a notification. Returns a function that stops watching.
 */
export function watchDigests(engine: Engine, db: Db, emit: (event: DigestReadyEvent) => void): () => void {
  const listener = (e: { workflowId: string; outcome: { kind: string; workflowDone?: boolean } }) => {
    if (e.outcome.kind !== 'committed' || !e.outcome.workflowDone) return;
    if (!e.workflowId.startsWith(`${DIGEST_KIND}-`)) return;
    const row = db
      .prepare('SELECT id, from_ms, to_ms, stories, episodes, scheduled FROM digests WHERE workflow_id = ?')
      .get(e.workflowId) as
      | { id: number; from_ms: number; to_ms: number; stories: number; episodes: number; scheduled: number }
      | undefined;
    if (!row || !row.scheduled) return;
    emit({
      digestId: row.id,
      from: row.from_ms,
      to: row.to_ms,
      stories: row.stories,
      episodes: row.episodes,
      headline: digestHeadline({ ...row, from: row.from_ms, to: row.to_ms }),
    });
  };
  engine.on('finished', listener);
  return () => engine.off('finished', listener);
}
