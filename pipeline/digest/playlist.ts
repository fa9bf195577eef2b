import fs from 'node:fs';
import type { Db } from '../store/db.ts';
import type { Transcript, TranscriptSegment } from '../ingest/transcripts.ts';
import type { DigestInsightView, DigestPlaylistItemView } from '../api/contract.ts';
import { segmentAt, transcriptText, type TranscriptText } from '../understand/text.ts';

/**
 * The digest's playlist: for each story's best insights, the stretch of the episode worth
 * hearing (its chapter when the publisher marked one of a listenable length, else the segments
 * around the quote), picked story by story until the listening time is used up. The total
 * never exceeds the budget.
 */

/** A segment starts one cue before the quote, unless that cue began more than this earlier. */
const MAX_LEAD_IN_MS = 20_000;
/** A segment runs on after the quote until it is this long… */
const MIN_SEGMENT_MS = 45_000;
/** …but not past this. */
const MAX_SEGMENT_MS = 120_000;
/** A chapter is played whole when it lasts between these. */
const MIN_CHAPTER_MS = 20_000;
const MAX_CHAPTER_MS = 10 * 60_000;
/** Two stretches of one episode closer than this are played as one. */
const JOIN_GAP_MS = 5_000;

export interface Timeline {
  text: TranscriptText;
  chapters: { startMs: number; endMs: number; title: string }[];
}

/** An episode's transcript and chapters as its artifacts have them; null when it has no timed transcript. */
export function loadTimeline(db: Db, episodeId: number): Timeline | null {
  const paths = new Map(
    (
      db
        .prepare(
          `SELECT kind, path FROM artifacts WHERE episode_id = ? AND kind IN ('transcript', 'chapters')`,
        )
        .all(episodeId) as { kind: string; path: string }[]
    ).map((r) => [r.kind, r.path]),
  );
  const file = paths.get('transcript');
  if (!file) return null;
  let transcript: Transcript;
  try {
    transcript = JSON.parse(fs.readFileSync(file, 'utf8')) as Transcript;
  } catch {
    return null;
  }
  if (transcript.timed === false || transcript.segments.length === 0) return null;
  const segments: TranscriptSegment[] = transcript.segments;
  const end = segments[segments.length - 1]!.endMs;
  let chapters: Timeline['chapters'] = [];
  const chaptersFile = paths.get('chapters');
  if (chaptersFile) {
    try {
      const list = (
        JSON.parse(fs.readFileSync(chaptersFile, 'utf8')) as {
          chapters?: { startMs: number; title: string }[];
        }
      ).chapters;
      const sorted = (list ?? [])
        .filter((c) => Number.isFinite(c.startMs))
        .sort((a, b) => a.startMs - b.startMs);
      chapters = sorted.map((c, i) => ({
        startMs: c.startMs,
        endMs: sorted[i + 1]?.startMs ?? end,
        title: c.title,
      }));
    } catch {
      // Unreadable chapters: segments still work.
    }
  }
  return { text: transcriptText(segments), chapters };
}

export interface Stretch {
  kind: 'chapter' | 'segment';
  title: string;
  startMs: number;
  endMs: number;
}

/** What to play for one insight: its chapter, or the segments around its quote. */
export function stretchFor(insight: DigestInsightView, timeline: Timeline): Stretch | null {
  const q = insight.quote;
  if (q.startMs === null || q.endMs === null) return null;
  const chapter = timeline.chapters.find((c) => c.startMs <= q.startMs! && q.startMs! < c.endMs);
  if (chapter) {
    const length = chapter.endMs - chapter.startMs;
    if (length >= MIN_CHAPTER_MS && length <= MAX_CHAPTER_MS)
      return { kind: 'chapter', title: chapter.title, startMs: chapter.startMs, endMs: chapter.endMs };
  }
  const segs = timeline.text.segments;
  const first = segmentAt(timeline.text, q.charStart);
  const last = segmentAt(timeline.text, Math.max(q.charStart, q.charEnd - 1));
  let startMs = segs[first]!.startMs;
  if (first > 0 && q.startMs - segs[first - 1]!.startMs <= MAX_LEAD_IN_MS) startMs = segs[first - 1]!.startMs;
  let j = last;
  let endMs = Math.max(segs[last]!.endMs, q.endMs);
  while (
    endMs - startMs < MIN_SEGMENT_MS &&
    j + 1 < segs.length &&
    segs[j + 1]!.endMs - startMs <= MAX_SEGMENT_MS
  ) {
    j++;
    endMs = segs[j]!.endMs;
  }
  return { kind: 'segment', title: insight.text, startMs, endMs };
}

export interface StoryCandidates {
  storyId: string;
  episodes: Map<number, { title: string | null; feedTitle: string | null }>;
  /** Best first. */
  insights: DigestInsightView[];
}

interface Picked extends DigestPlaylistItemView {
  rank: number;
}

/**
 * Round by round, each story (most important first) offers its next insight's stretch; it is
 * taken when it fits in what is left of the budget (a stretch overlapping one already taken
 * from the same episode costs only what it adds).
 */
export function pickPlaylist(
  stories: StoryCandidates[],
  budgetMs: number,
  timelineOf: (episodeId: number) => Timeline | null,
): { budgetMs: number; totalMs: number; items: DigestPlaylistItemView[] } {
  const taken: Picked[] = [];
  let total = 0;
  const rounds = Math.max(0, ...stories.map((s) => s.insights.length));
  for (let r = 0; r < rounds; r++) {
    stories.forEach((story, rank) => {
      const insight = story.insights[r];
      if (!insight) return;
      const timeline = timelineOf(insight.episodeId);
      const stretch = timeline ? stretchFor(insight, timeline) : null;
      if (!stretch) return;
      const near = taken.find(
        (t) =>
          t.episodeId === insight.episodeId &&
          stretch.startMs <= t.endMs + JOIN_GAP_MS &&
          t.startMs <= stretch.endMs + JOIN_GAP_MS,
      );
      if (near) {
        const startMs = Math.min(near.startMs, stretch.startMs);
        const endMs = Math.max(near.endMs, stretch.endMs);
        const extra = endMs - startMs - (near.endMs - near.startMs);
        if (total + extra > budgetMs) return;
        total += extra;
        near.startMs = startMs;
        near.endMs = endMs;
        if (near.kind !== stretch.kind) near.kind = 'segment';
        return;
      }
      const length = stretch.endMs - stretch.startMs;
      if (length <= 0 || total + length > budgetMs) return;
      total += length;
      const ep = story.episodes.get(insight.episodeId);
      taken.push({
        ...stretch,
        episodeId: insight.episodeId,
        episodeTitle: ep?.title ?? null,
        feedTitle: ep?.feedTitle ?? null,
        storyId: story.storyId,
        rank,
      });
    });
  }
  taken.sort((a, b) => a.rank - b.rank || a.episodeId - b.episodeId || a.startMs - b.startMs);
  return { budgetMs, totalMs: total, items: taken.map(({ rank: _rank, ...item }) => item) };
}
