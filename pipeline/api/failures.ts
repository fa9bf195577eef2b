import type { Db } from '../store/db.ts';
import type { EpisodeRefView, FailureActionView, FailureGroupView } from './contract.ts';

/**
 * The failure inbox: dead-lettered episodes (only the latest workflow of each: an older one that
 * a later run replaced is history, not a failure) and optional parts that were skipped, grouped
 * by cause and show, in plain words, with what can be done about them. Waiting episodes are not
 * here: they resume by themselves.
 */

interface Cause {
  cause: string;
  /** What went wrong, completing "N episodes of Show: …". */
  text: string;
  actions: FailureActionView[];
  /** The text names this episode's own error: group only identical errors together. */
  specific?: boolean;
}

const retry: FailureActionView = { kind: 'retry', label: 'Try again' };
const skip: FailureActionView = { kind: 'skip', label: 'Skip' };
const downloadAgain: FailureActionView = { kind: 'retry-from', step: 'download', label: 'Download again' };

/** The error a step recorded, without the wrapper the queue adds to a dead letter's reason. */
function lastSentence(error: string): string {
  return error.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}

/** Why an episode's workflow stopped, from the step that failed and what it said. */
export function classifyFailure(step: string | null, error: string, interrupted: boolean): Cause {
  const e = error.toLowerCase();
  if (interrupted)
    return {
      cause: 'interrupted',
      text: `Earshot was stopped again and again while ${step ? `the ${step} step` : 'it'} ran (${lastSentence(error)}), so it gave up`,
      actions: [retry, skip],
    };
  if (step === 'download') {
    if (/\(404\)|does not exist/.test(e))
      return {
        cause: 'audio-missing',
        text: 'the audio address answers 404 (the publisher may have moved or removed the file)',
        actions: [retry, skip],
      };
    if (/\(410|removed/.test(e))
      return { cause: 'audio-gone', text: 'the publisher has removed the audio (410 Gone)', actions: [skip] };
    if (/refused access|\(40[13]\)/.test(e))
      return {
        cause: 'audio-denied',
        text: 'the audio address refuses access (a private feed may need its full address, with its token)',
        actions: [retry, skip],
      };
    if (/instead of audio/.test(e))
      return {
        cause: 'audio-not-audio',
        text: 'the audio address returns a web page instead of audio',
        actions: [retry, skip],
      };
    if (/disk space/.test(e))
      return {
        cause: 'disk-full',
        text: 'there was not enough free disk space to download the audio; free some space',
        actions: [retry, skip],
      };
    if (/no audio address/.test(e))
      return { cause: 'no-audio', text: 'the feed gives no audio address', actions: [skip] };
    if (/imported file|changed after you imported/.test(e))
      return { cause: 'file-moved', text: lastSentence(error), actions: [skip], specific: true };
    if (
      /could not find the server|refused the connection|took too long|broke off|could not reach|server had a problem|slow down/.test(
        e,
      )
    )
      return {
        cause: 'audio-unreachable',
        text: 'the audio address does not answer (the server is down or unreachable)',
        actions: [retry, skip],
      };
    return {
      cause: 'download-failed',
      text: `the audio could not be downloaded: ${lastSentence(error)}`,
      actions: [retry, skip],
      specific: true,
    };
  }
  if (step === 'publisher-transcript')
    return {
      cause: 'transcript-unreachable',
      text: "the publisher's transcript could not be fetched",
      actions: [retry, skip],
    };
  if (step === 'decode')
    return {
      cause: 'decode-failed',
      text: `the audio could not be decoded: ${lastSentence(error)}`,
      actions: [downloadAgain, skip],
      specific: true,
    };
  if (step === 'transcribe' && /model/.test(e))
    return {
      cause: 'whisper-model',
      text: `the Whisper model could not be used: ${lastSentence(error)}`,
      actions: [retry, skip],
      specific: true,
    };
  return {
    cause: `${step ?? 'step'}-failed`,
    text: `the ${step ?? ''} step failed: ${lastSentence(error)}`.replace('the  step', 'a step'),
    actions: [retry, { kind: 'retry-from', step: 'download', label: 'Start over' }, skip],
    specific: true,
  };
}

/** Episodes by key, with their show: what every view of a job, workflow or dead letter names. */
export function episodeRefs(db: Db, keys: readonly string[]): Map<string, EpisodeRefView> {
  const out = new Map<string, EpisodeRefView>();
  const unique = [...new Set(keys)];
  // In slices: SQLite caps the number of parameters.
  for (let i = 0; i < unique.length; i += 500) {
    const slice = unique.slice(i, i + 500);
    const rows = db
      .prepare(
        `SELECT e.key, e.id, e.title, f.title AS show FROM episodes e LEFT JOIN feeds f ON f.id = e.feed_id
         WHERE e.key IN (${slice.map(() => '?').join(', ')})`,
      )
      .all(...slice) as { key: string; id: number; title: string | null; show: string | null }[];
    for (const r of rows) out.set(r.key, { id: r.id, title: r.title, show: r.show });
  }
  return out;
}

/** "The file…" after a colon reads "the file…"; "HTTP…" stays as it is. */
const lowerFirst = (text: string) =>
  /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function whose(n: number, show: string | null): string {
  return show ? `${plural(n, 'episode')} of ${show}` : `${plural(n, 'file')} you imported`;
}

/** Each chapters note says why; the group says it once. */
function noteCause(note: string): { cause: string; text: string } {
  if (/^chapters/i.test(note))
    return {
      cause: 'chapters-skipped',
      text: 'the chapters address does not answer or is unreadable — the episode is fine; chapters skipped',
    };
  return { cause: 'part-skipped', text: `an optional part was skipped (${lastSentence(note)})` };
}

export function failureGroups(db: Db): FailureGroupView[] {
  const dead = db
    .prepare(
      `SELECT w.id, w.subject, w.dead_reason, e.id AS episode_id, e.title, e.feed_id, f.title AS show,
              (SELECT s.name FROM steps s WHERE s.wf_seq = w.seq AND s.status = 'failed' ORDER BY s.position LIMIT 1) AS step,
              (SELECT s.last_error FROM steps s WHERE s.wf_seq = w.seq AND s.status = 'failed' ORDER BY s.position LIMIT 1) AS error
       FROM workflows w JOIN episodes e ON e.key = w.subject LEFT JOIN feeds f ON f.id = e.feed_id
       WHERE w.status = 'dead' AND w.kind = 'episode' AND e.status != 'skipped'
         AND w.seq = (SELECT max(x.seq) FROM workflows x WHERE x.kind = w.kind AND x.subject = w.subject)
       ORDER BY w.updated_at DESC`,
    )
    .all() as {
    id: string;
    subject: string;
    dead_reason: string | null;
    episode_id: number;
    title: string | null;
    feed_id: number | null;
    show: string | null;
    step: string | null;
    error: string | null;
  }[];
  const groups = new Map<string, FailureGroupView & { text: string }>();
  for (const d of dead) {
    const error = d.error ?? d.dead_reason ?? 'unknown';
    const interrupted = /was interrupted \d+ times/.test(d.dead_reason ?? '');
    const c = classifyFailure(d.step, error, interrupted);
    const key = `${c.cause}@${d.feed_id ?? 'files'}${c.specific ? `\u0000${c.text}` : ''}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        id: `${c.cause}@${d.feed_id ?? 'files'}`,
        cause: c.cause,
        severity: 'failed',
        message: '',
        text: c.text,
        feedId: d.feed_id,
        show: d.show,
        episodes: [],
        actions: c.actions,
      };
      groups.set(key, g);
    }
    g.episodes.push({
      id: d.episode_id,
      title: d.title,
      show: d.show,
      workflowId: d.id,
      step: d.step,
      error,
    });
  }
  const noted = db
    .prepare(
      `SELECT e.id, e.title, e.feed_id, e.notes, f.title AS show FROM episodes e LEFT JOIN feeds f ON f.id = e.feed_id
       WHERE e.notes IS NOT NULL AND e.notes != '[]' ORDER BY e.updated_at DESC, e.id DESC`,
    )
    .all() as {
    id: number;
    title: string | null;
    feed_id: number | null;
    notes: string;
    show: string | null;
  }[];
  for (const n of noted) {
    for (const note of JSON.parse(n.notes) as string[]) {
      const c = noteCause(note);
      const key = `${c.cause}@${n.feed_id ?? 'files'}`;
      let g = groups.get(key);
      if (!g) {
        g = {
          id: key,
          cause: c.cause,
          severity: 'skipped-part',
          message: '',
          text: c.text,
          feedId: n.feed_id,
          show: n.show,
          episodes: [],
          actions: [{ kind: 'skip', label: 'Dismiss' }],
        };
        groups.set(key, g);
      }
      if (!g.episodes.some((e) => e.id === n.id))
        g.episodes.push({
          id: n.id,
          title: n.title,
          show: n.show,
          workflowId: null,
          step: null,
          error: note,
        });
    }
  }
  // Specific causes share an id per show; number the extra ones so each id names one group.
  const seen = new Map<string, number>();
  return [...groups.values()]
    .sort(
      (a, b) =>
        Number(a.severity !== 'failed') - Number(b.severity !== 'failed') ||
        b.episodes.length - a.episodes.length ||
        a.id.localeCompare(b.id),
    )
    .map(({ text, ...g }) => {
      const n = (seen.get(g.id) ?? 0) + 1;
      seen.set(g.id, n);
      return {
        ...g,
        id: n === 1 ? g.id : `${g.id}.${n}`,
        message: `${whose(g.episodes.length, g.show)}: ${lowerFirst(text)}.`,
      };
    });
}
