import type { Db } from '../store/db.ts';
import { writeTx } from '../store/db.ts';
import type { Queue } from '../engine/queue.ts';
import type { Json } from '../engine/workflow.ts';
import { hostOf } from './net-policy.ts';
import { IngestError } from './errors.ts';
import type { EpisodeInput } from '../episode-input.ts';
import type { Chapter, Enclosure, TranscriptRef } from './feed-parse.ts';
import { buildVocabulary } from './vocabulary.ts';
import { activeEmbeddingModel } from '../search/store.ts';
import { whisperModelFor } from '../../models/whisper/languages.ts';

interface EpisodeRow {
  id: number;
  key: string;
  feed_id: number | null;
  title: string | null;
  description: string | null;
  enclosure_url: string | null;
  enclosure_type: string | null;
  enclosure_length: number | null;
  duration_ms: number | null;
  extra: string;
  status: string;
}

interface FeedFacts {
  url: string;
  title: string | null;
  author: string | null;
  /** The show's language setting, else the feed's own. */
  language: string | null;
  /** The show's setting: Whisper even when the publisher has a transcript. */
  whisper: 'auto' | 'always';
}

/** The Whisper model new work uses: the one chosen with `earshot models use` (or Settings). */
export function activeWhisperModel(db: Db): string | null {
  const row = db.prepare(`SELECT value FROM settings WHERE key = 'model.active.whisper'`).get() as
    { value: string } | undefined;
  return row?.value ?? null;
}

/** The language model new understanding uses (`earshot models use`); null: the classic tier. */
export function activeLlmModel(db: Db): string | null {
  const row = db.prepare(`SELECT value FROM settings WHERE key = 'model.active.llm'`).get() as
    { value: string } | undefined;
  return row?.value ?? null;
}

/**
 * The models an episode is queued with now (each part of the fingerprint of the steps that use
 * it): the active ones, the Whisper model as startEpisodes chooses it for the show's language.
 */
export function activeModels(
  db: Db,
  language?: string | null,
): { whisperModel: string | null; embeddingModel: string | null; llmModel: string | null } {
  const installed = (
    db.prepare(`SELECT id FROM models WHERE kind = 'whisper' ORDER BY id`).all() as { id: string }[]
  ).map((r) => r.id);
  return {
    whisperModel: whisperModelFor(activeWhisperModel(db), language, installed),
    embeddingModel: activeEmbeddingModel(db),
    llmModel: activeLlmModel(db),
  };
}

export interface StartOptions {
  ids?: number[];
  priority?: number;
  /**
   * 'always': transcribe with Whisper even when the publisher has a transcript. Default: the
   * show's setting ('auto' unless set to always).
   */
  whisper?: 'auto' | 'always';
}

function inputOf(
  e: EpisodeRow,
  feed: FeedFacts | undefined,
  whisperModel: string | null,
  whisper: 'auto' | 'always',
): EpisodeInput {
  const extra = JSON.parse(e.extra) as {
    alternateEnclosures?: Enclosure[];
    transcripts?: TranscriptRef[];
    chaptersUrl?: { url: string; type?: string };
    podloveChapters?: Chapter[];
    localPath?: string;
    sha256?: string;
  };
  const sources = [
    ...(e.enclosure_url
      ? [
          {
            url: e.enclosure_url,
            type: e.enclosure_type ?? undefined,
            length: e.enclosure_length ?? undefined,
          },
        ]
      : []),
    ...(extra.alternateEnclosures ?? []).map((a) => ({ url: a.url, type: a.type, length: a.length })),
  ].map((s) => JSON.parse(JSON.stringify(s)) as { url: string; type?: string; length?: number });
  const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v ?? null)) as T;
  return {
    episodeId: e.id,
    key: e.key,
    sources,
    transcripts: plain(extra.transcripts ?? []),
    chaptersUrl: plain(extra.chaptersUrl ?? null),
    podloveChapters: plain(extra.podloveChapters ?? []),
    localPath: extra.localPath ?? null,
    sha256: extra.sha256 ?? null,
    trustedHost: hostOf(feed?.url),
    durationMs: e.duration_ms ?? null,
    whisperModel,
    whisper,
    vocabulary: buildVocabulary({
      showTitle: feed?.title,
      author: feed?.author,
      episodeTitle: e.title,
      description: e.description,
    }),
    language: feed?.language ?? null,
    feedId: e.feed_id,
    showTitle: feed?.title ?? null,
    host: feed?.author ?? null,
    episodeTitle: e.title,
  };
}

/**
 * Start the episode workflow for episodes. Without ids: every episode the backlog policy or a
 * refresh queued. With ids: those episodes, whatever their status (the user asked).
 */
export function startEpisodes(db: Db, queue: Queue, options: StartOptions = {}): string[] {
  const whisperModel = activeWhisperModel(db);
  const embeddingModel = activeEmbeddingModel(db);
  const llmModel = activeLlmModel(db);
  const feedOf = db.prepare(
    'SELECT url, title, author, coalesce(language_override, language) AS language, whisper FROM feeds WHERE id = ?',
  );
  const installedWhisper = (
    db.prepare(`SELECT id FROM models WHERE kind = 'whisper' ORDER BY id`).all() as { id: string }[]
  ).map((r) => r.id);
  const rows = options.ids
    ? options.ids.map((id) => {
        const row = db.prepare('SELECT * FROM episodes WHERE id = ?').get(id) as EpisodeRow | undefined;
        if (!row)
          throw new IngestError('NO_EPISODE', `There is no episode ${id}; \`earshot episodes\` lists them.`);
        return row;
      })
    : (db
        .prepare(`SELECT * FROM episodes WHERE status = 'queued' ORDER BY published_at DESC`)
        .all() as EpisodeRow[]);
  // One transaction for the lot: a refresh that queues 50 episodes is one commit, not 100.
  return writeTx(db, 'starting episodes', () => [
    ...rows.map((row) => {
      const feed = row.feed_id === null ? undefined : (feedOf.get(row.feed_id) as FeedFacts | undefined);
      // A show in another language never gets an English-only model (an installed multilingual
      // one instead, when there is one).
      const model = whisperModelFor(whisperModel, feed?.language, installedWhisper);
      const input = {
        ...inputOf(row, feed, model, options.whisper ?? (feed?.whisper === 'always' ? 'always' : 'auto')),
        embeddingModel,
        llmModel,
      };
      const id = queue.start('episode', row.key, input as unknown as Json, {
        priority: options.priority ?? 0,
      });
      // Asked for by name: an episode whose pipeline failed or was cancelled gets another go.
      if (options.ids) {
        const wf = db.prepare('SELECT status FROM workflows WHERE id = ?').get(id) as { status: string };
        if (wf.status === 'dead' || wf.status === 'cancelled') queue.retry(id);
      }
      db.prepare(
        `UPDATE episodes SET status = 'processing' WHERE id = ? AND status IN ('listed', 'queued', 'skipped')`,
      ).run(row.id);
      return id;
    }),
    ...(options.ids ? [] : reindexChanged(db, queue)),
  ]);
}

/**
 * Episodes whose title or show notes changed after they were indexed (a refresh marks them):
 * their index step runs again, and only it (its embeddings of unchanged text are reused). One
 * still in the pipeline keeps its mark until it is done, since its index may have read the old
 * text. Inside the caller's transaction.
 */
function reindexChanged(db: Db, queue: Queue): string[] {
  const marked = db.prepare('SELECT id, key FROM episodes WHERE reindex_at IS NOT NULL').all() as {
    id: number;
    key: string;
  }[];
  const latest = db.prepare(
    `SELECT w.id, w.status, EXISTS (SELECT 1 FROM steps s WHERE s.wf_seq = w.seq AND s.name = 'index') AS indexed
       FROM workflows w WHERE w.kind = 'episode' AND w.subject = ? ORDER BY w.seq DESC LIMIT 1`,
  );
  const clear = db.prepare('UPDATE episodes SET reindex_at = NULL WHERE id = ?');
  const started: string[] = [];
  for (const e of marked) {
    const wf = latest.get(e.key) as { id: string; status: string; indexed: number } | undefined;
    if (wf && (wf.status === 'queued' || wf.status === 'running')) continue;
    if (wf?.status === 'completed' && wf.indexed) {
      queue.retry(wf.id, 'index');
      started.push(wf.id);
    }
    clear.run(e.id);
  }
  return started;
}
