import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import filenamify from 'filenamify';
import type { Db } from '../store/db.ts';
import type {
  CanonicalEntityDetailView,
  EntityKind,
  EpisodeUnderstandingView,
  ExportFormat,
  ExportView,
} from '../api/contract.ts';
import type { Transcript } from '../ingest/transcripts.ts';
import { renderTranscript } from '../ingest/transcript-formats.ts';
import { canonicalEntity, episodeUnderstanding, NotUnderstood } from '../understand/read.ts';
import { clock, mdText } from '../digest/render.ts';
import { mergeNote, newNote, type NoteParts } from './note.ts';

/**
 * `earshot export`: the library written to a folder the reader owns.
 *
 * - obsidian / md: a vault. One note per episode (Episodes/<show>/<date> <title>.md: front
 *   matter, summary, insights with their quotes and times, the people and topics as links, the
 *   transcript) and one per person, organization, place and topic (People/, Organizations/,
 *   Places/, Topics/) linking the episodes that name it. Obsidian gets [[wiki links]] and
 *   properties that link; md gets relative Markdown links. Re-exporting updates Earshot's
 *   marked sections and front-matter keys and keeps the reader's edits (note.ts); a note is
 *   found again by its `earshot_id`, wherever the reader moved it and whatever they renamed it.
 * - json: per episode a folder with episode.json and the stored artifacts (transcript,
 *   summary, insights, graph, chapters), and index.json.
 * - srt / vtt: each timed transcript as subtitles (the `subtitle` package).
 *
 * Files are written aside and renamed into place, and only when their text changed.
 */
export class ExportError extends Error {}

export interface ExportRequest {
  dir: string;
  format: ExportFormat;
  feedId?: number;
  /** Only episodes published at or after this time (ms). */
  since?: number;
}

interface Episode {
  id: number;
  title: string | null;
  feedId: number | null;
  feedTitle: string | null;
  publishedAt: number | null;
  durationMs: number | null;
  link: string | null;
  audio: string | null;
  artifacts: Map<string, string>;
}

interface Counts {
  written: number;
  unchanged: number;
}

const TYPE_FOLDER: Record<EntityKind, string> = {
  person: 'People',
  organization: 'Organizations',
  place: 'Places',
  topic: 'Topics',
};
const TYPE_KEY: Record<EntityKind, string> = {
  person: 'people',
  organization: 'organizations',
  place: 'places',
  topic: 'topics',
};
const ROLE: Record<string, string> = { host: 'host', guest: 'guest', mentioned: '' };

function resolveDir(dir: string): string {
  const expanded =
    dir === '~' ? os.homedir() : dir.startsWith('~/') ? path.join(os.homedir(), dir.slice(2)) : dir;
  if (!path.isAbsolute(expanded))
    throw new ExportError(
      `Give the folder to export into as a full path (like ${path.join(os.homedir(), 'Podcasts')}), not "${dir}".`,
    );
  return path.resolve(expanded);
}

/** A file or folder name any system accepts that a [[wiki link]] can point at. */
export function safeName(name: string, maxLength = 100): string {
  const cleaned = filenamify(
    name
      .replace(/[#^[\]|]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
    {
      replacement: ' ',
      maxLength,
    },
  )
    .replace(/\s+/g, ' ')
    .replace(/^[.\s]+|[.\s]+$/g, '');
  return cleaned || 'Untitled';
}

const isoDay = (ms: number | null) => (ms === null ? 'undated' : new Date(ms).toISOString().slice(0, 10));
const episodeBase = (e: Episode) => safeName(`${isoDay(e.publishedAt)} ${e.title ?? 'Untitled'}`);
const showFolder = (e: Episode) => safeName(e.feedTitle ?? 'Imported', 80);

/** Base names already used (compared without case: macOS and Windows folders ignore it). */
class Names {
  private readonly taken = new Set<string>();
  has(base: string): boolean {
    return this.taken.has(base.toLowerCase());
  }
  add(base: string): void {
    this.taken.add(base.toLowerCase());
  }
  claim(base: string, suffix?: string): string {
    let name = this.has(base) && suffix ? `${base} (${suffix})` : base;
    for (let n = 2; this.has(name); n++) name = `${base} (${n})`;
    this.add(name);
    return name;
  }
}

function writeIfChanged(file: string, text: string, counts: Counts, old?: string | null): void {
  let before = old;
  if (before === undefined) {
    try {
      before = fs.readFileSync(file, 'utf8');
    } catch {
      before = null;
    }
  }
  if (before === text) {
    counts.unchanged++;
    return;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  counts.written++;
}

function episodesToExport(db: Db, req: ExportRequest): Episode[] {
  if (req.feedId !== undefined && !db.prepare('SELECT 1 FROM feeds WHERE id = ?').get(req.feedId))
    throw new ExportError(`There is no feed ${req.feedId}; \`earshot feeds\` lists them.`);
  const rows = db
    .prepare(
      `SELECT e.id, e.title, e.feed_id, f.title AS feed_title, e.published_at, e.duration_ms, e.link,
              e.enclosure_url,
              (SELECT json_group_object(a.kind, a.path) FROM artifacts a WHERE a.episode_id = e.id) AS artifacts
         FROM episodes e LEFT JOIN feeds f ON f.id = e.feed_id
        WHERE (? IS NULL OR e.feed_id = ?) AND (? IS NULL OR e.published_at >= ?)
          AND EXISTS (SELECT 1 FROM artifacts a WHERE a.episode_id = e.id AND a.kind = 'transcript')
        ORDER BY e.published_at, e.id`,
    )
    .all(req.feedId ?? null, req.feedId ?? null, req.since ?? null, req.since ?? null) as {
    id: number;
    title: string | null;
    feed_id: number | null;
    feed_title: string | null;
    published_at: number | null;
    duration_ms: number | null;
    link: string | null;
    enclosure_url: string | null;
    artifacts: string;
  }[];
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    feedId: r.feed_id,
    feedTitle: r.feed_title,
    publishedAt: r.published_at,
    durationMs: r.duration_ms,
    link: r.link,
    audio: r.enclosure_url && /^https?:\/\//i.test(r.enclosure_url) ? r.enclosure_url : null,
    artifacts: new Map(Object.entries(JSON.parse(r.artifacts) as Record<string, string>)),
  }));
}

function readTranscript(e: Episode): Transcript | null {
  try {
    return JSON.parse(fs.readFileSync(e.artifacts.get('transcript')!, 'utf8')) as Transcript;
  } catch {
    return null;
  }
}

function understandingOf(db: Db, e: Episode): EpisodeUnderstandingView | null {
  if (!e.artifacts.has('gi')) return null;
  try {
    return episodeUnderstanding(db, e.id);
  } catch (err) {
    if (err instanceof NotUnderstood) return null;
    throw err;
  }
}

export async function exportLibrary(db: Db, req: ExportRequest): Promise<ExportView> {
  const dir = resolveDir(req.dir);
  try {
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory())
      throw new ExportError(`${dir} is a file; give a folder to export into.`);
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    if (err instanceof ExportError) throw err;
    throw new ExportError(
      `Earshot cannot write into ${dir} (${(err as Error).message}); choose another folder.`,
    );
  }
  const episodes = episodesToExport(db, req);
  const view: ExportView = {
    dir,
    format: req.format,
    episodes: 0,
    entities: 0,
    written: 0,
    unchanged: 0,
    skipped: [],
  };
  if (req.format === 'srt' || req.format === 'vtt') exportSubtitles(episodes, dir, req.format, view);
  else if (req.format === 'json') exportJson(db, episodes, dir, view);
  else exportVault(db, episodes, dir, req.format, view);
  return view;
}

function exportSubtitles(episodes: Episode[], dir: string, format: 'srt' | 'vtt', view: ExportView): void {
  const names = new Names();
  for (const e of episodes) {
    const t = readTranscript(e);
    if (!t) {
      view.skipped.push({ episodeId: e.id, title: e.title, reason: 'Its transcript file cannot be read.' });
      continue;
    }
    if (!t.timed) {
      view.skipped.push({
        episodeId: e.id,
        title: e.title,
        reason:
          "The publisher's transcript has no timings, so it has no subtitle form (export it as md or json).",
      });
      continue;
    }
    const base = names.claim(`${showFolder(e)}/${episodeBase(e)}`);
    writeIfChanged(path.join(dir, `${base}.${format}`), renderTranscript(t, format), view);
    view.episodes++;
  }
}

function exportJson(db: Db, episodes: Episode[], dir: string, view: ExportView): void {
  const names = new Names();
  const index: {
    id: number;
    title: string | null;
    show: string | null;
    publishedAt: number | null;
    folder: string;
  }[] = [];
  const copies: [string, string][] = [
    ['transcript', 'transcript.json'],
    ['summary', 'summary.json'],
    ['gi', 'insights.json'],
    ['kg', 'graph.json'],
    ['chapters', 'chapters.json'],
  ];
  for (const e of episodes) {
    const folder = names.claim(`${showFolder(e)}/${episodeBase(e)}`);
    const meta = {
      schemaVersion: 1,
      id: e.id,
      title: e.title,
      show: e.feedId === null ? null : { id: e.feedId, title: e.feedTitle },
      publishedAt: e.publishedAt,
      durationMs: e.durationMs,
      url: e.link,
      audioUrl: e.audio,
      understood: understandingOf(db, e) !== null,
    };
    writeIfChanged(path.join(dir, folder, 'episode.json'), `${JSON.stringify(meta, null, 2)}\n`, view);
    for (const [kind, name] of copies) {
      const from = e.artifacts.get(kind);
      if (!from) continue;
      let text: string;
      try {
        text = `${JSON.stringify(JSON.parse(fs.readFileSync(from, 'utf8')), null, 2)}\n`;
      } catch {
        view.skipped.push({ episodeId: e.id, title: e.title, reason: `Its ${kind} file cannot be read.` });
        continue;
      }
      writeIfChanged(path.join(dir, folder, name), text, view);
    }
    index.push({ id: e.id, title: e.title, show: e.feedTitle, publishedAt: e.publishedAt, folder });
    view.episodes++;
  }
  writeIfChanged(
    path.join(dir, 'index.json'),
    `${JSON.stringify({ schemaVersion: 1, episodes: index }, null, 2)}\n`,
    view,
  );
}

/** Existing notes: base names (taken) and where Earshot's notes are, by earshot_id. */
function scanVault(dir: string): { names: Names; notes: Map<string, string> } {
  const names = new Names();
  const notes = new Map<string, string>();
  // Earshot writes earshot_id first: the head of a note is enough, unless the reader's front
  // matter runs past it (then the whole note is read).
  const buf = Buffer.alloc(8 * 1024);
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (d.name.startsWith('.')) continue;
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      else if (d.isFile() && d.name.endsWith('.md')) {
        names.add(d.name.slice(0, -3));
        const fd = fs.openSync(path.join(dir, r), 'r');
        let head: string;
        try {
          head = buf.toString('utf8', 0, fs.readSync(fd, buf, 0, buf.length, 0));
        } finally {
          fs.closeSync(fd);
        }
        if (head.startsWith('---') && !/\n---/.test(head.slice(3)) && head.length >= buf.length - 4)
          head = fs.readFileSync(path.join(dir, r), 'utf8');
        const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(head)?.[1] ?? '';
        const id = /^earshot_id:\s*["']?((?:episode|entity)-\d+)["']?\s*$/m.exec(front)?.[1];
        if (id && !notes.has(id)) notes.set(id, r);
      }
    }
  };
  walk('');
  return { names, notes };
}

interface Linker {
  /** A link from the note at `from` (relative path) to the note at `to`, showing `text`. */
  (from: string, to: string, text: string): string;
}

const stem = (rel: string) => path.posix.basename(rel, '.md');

function linker(format: 'obsidian' | 'md'): Linker {
  if (format === 'obsidian')
    return (_from, to, text) => {
      const target = stem(to);
      const shown = text.replace(/[|\]\n]/g, ' ').trim();
      return shown === target || !shown ? `[[${target}]]` : `[[${target}|${shown}]]`;
    };
  return (from, to, text) => `[${mdText(text)}](<${path.posix.relative(path.posix.dirname(from), to)}>)`;
}

/** A time in the episode: a link that plays the audio from there when the feed gives its address. */
function timeLink(e: Episode, ms: number): string {
  return e.audio ? `[${clock(ms)}](${e.audio}#t=${Math.floor(ms / 1000)})` : clock(ms);
}

function transcriptMarkdown(e: Episode, t: Transcript): string {
  const lines: string[] = ['## Transcript', ''];
  let para: string[] = [];
  let speaker: string | undefined;
  let startMs = 0;
  const flush = () => {
    if (para.length === 0) return;
    const who = speaker ? `${mdText(speaker)}: ` : '';
    lines.push(`${t.timed ? `**${timeLink(e, startMs)}** ` : ''}${who}${mdText(para.join(' '))}`, '');
    para = [];
  };
  for (const s of t.segments) {
    // A new paragraph at each change of speaker, else about every minute.
    if (para.length > 0 && (s.speaker !== speaker || (!s.speaker && s.startMs - startMs >= 60_000))) flush();
    if (para.length === 0) {
      speaker = s.speaker;
      startMs = s.startMs;
    }
    para.push(s.text);
  }
  flush();
  if (t.segments.length === 0) lines.push('_The transcript is empty._');
  return lines.join('\n');
}

const plain = (t: string) =>
  t
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

const INSIGHT_LABEL = {
  claim: 'Claim',
  recommendation: 'Recommendation',
  observation: 'Observation',
  question: 'Question',
};

function exportVault(
  db: Db,
  episodes: Episode[],
  dir: string,
  format: 'obsidian' | 'md',
  view: ExportView,
): void {
  const { names, notes } = scanVault(dir);
  const link = linker(format);
  // Where each episode's note is (found by earshot_id, else a new name).
  const episodeNote = new Map<number, string>();
  for (const e of episodes) {
    const known = notes.get(`episode-${e.id}`);
    if (known) episodeNote.set(e.id, known);
  }
  for (const e of episodes) {
    if (episodeNote.has(e.id)) continue;
    const base = names.claim(episodeBase(e));
    const rel = `Episodes/${showFolder(e)}/${base}.md`;
    episodeNote.set(e.id, rel);
    notes.set(`episode-${e.id}`, rel);
  }
  const understood = new Map<number, EpisodeUnderstandingView | null>(
    episodes.map((e) => [e.id, understandingOf(db, e)]),
  );

  // The library entities these episodes name, and their notes.
  const entityIds = new Set<number>();
  for (const u of understood.values())
    for (const x of u?.entities ?? []) if (x.canonicalId !== null) entityIds.add(x.canonicalId);
  const entities = new Map<number, CanonicalEntityDetailView>();
  for (const id of [...entityIds].sort((a, b) => a - b)) {
    try {
      entities.set(id, canonicalEntity(db, id));
    } catch (err) {
      if (!(err instanceof NotUnderstood)) throw err;
    }
  }
  const entityNote = new Map<number, string>();
  for (const [id, ent] of entities) {
    const known = notes.get(`entity-${id}`);
    if (known) {
      entityNote.set(id, known);
      continue;
    }
    const base = names.claim(safeName(ent.name), ent.type);
    const rel = `${TYPE_FOLDER[ent.type]}/${base}.md`;
    entityNote.set(id, rel);
    notes.set(`entity-${id}`, rel);
  }

  for (const e of episodes) {
    const rel = episodeNote.get(e.id)!;
    const t = readTranscript(e);
    if (!t) {
      view.skipped.push({ episodeId: e.id, title: e.title, reason: 'Its transcript file cannot be read.' });
      continue;
    }
    const u = understood.get(e.id) ?? null;
    const facts = [
      e.feedTitle ? mdText(e.feedTitle) : null,
      e.publishedAt === null ? null : isoDay(e.publishedAt),
      e.durationMs ? `${Math.round(e.durationMs / 60_000)} min` : null,
      e.audio ? `[Listen](${e.audio})` : null,
      e.link ? `[Episode page](${e.link})` : null,
    ].filter(Boolean);
    const sections: [string, string][] = [
      ['header', `# ${mdText(e.title ?? 'Untitled')}\n\n${facts.join(' · ')}`],
    ];
    const byType = new Map<EntityKind, string[]>();
    if (u) {
      const summary = [
        '## Summary',
        '',
        mdText(u.summary.abstract || 'The transcript has no text to summarize.'),
      ];
      if (u.summary.keyPoints.length > 0) {
        summary.push('', '### Key points', '');
        for (const k of u.summary.keyPoints)
          summary.push(
            `- ${k.quote?.startMs != null ? `${timeLink(e, k.quote.startMs)} ` : ''}${mdText(k.text)}`,
          );
      }
      sections.push(['summary', summary.join('\n')]);
      const insights = ['## Insights', ''];
      if (u.insights.length === 0) insights.push('_No insights were found in this episode._');
      for (const i of u.insights) {
        const label = `**${INSIGHT_LABEL[i.type]}${i.grounded ? '' : ' (not found in the transcript)'}:**`;
        // An insight that says no more than its quote is written once, as the quote.
        const same = i.quotes[0] !== undefined && plain(i.quotes[0].text) === plain(i.text);
        insights.push(same ? `- ${label}` : `- ${label} ${mdText(i.text)}`);
        for (const q of i.quotes)
          insights.push(`  > “${mdText(q.text)}”${q.startMs === null ? '' : ` (${timeLink(e, q.startMs)})`}`);
      }
      sections.push(['insights', insights.join('\n')]);
      const lines = ['## People and topics', ''];
      for (const type of ['person', 'organization', 'place', 'topic'] as EntityKind[]) {
        const list = u.entities.filter((x) => x.type === type);
        if (list.length === 0) continue;
        const shown = list.map((x) => {
          const target = x.canonicalId === null ? undefined : entityNote.get(x.canonicalId);
          const name = target ? link(rel, target, x.name) : mdText(x.name);
          return ROLE[x.role] ? `${name} (${ROLE[x.role]})` : name;
        });
        byType.set(
          type,
          list.map((x) => {
            const target = x.canonicalId === null ? undefined : entityNote.get(x.canonicalId);
            return format === 'obsidian' && target ? link(rel, target, x.name) : x.name;
          }),
        );
        lines.push(`**${TYPE_FOLDER[type]}:** ${shown.join(', ')}`, '');
      }
      if (lines.length === 2) lines.push('_No people, organizations, places or topics were found._');
      sections.push(['entities', lines.join('\n').trimEnd()]);
    }
    sections.push(['transcript', transcriptMarkdown(e, t)]);
    const parts: NoteParts = {
      frontMatter: [
        ['earshot_id', `episode-${e.id}`],
        ['title', e.title ?? 'Untitled'],
        ['show', e.feedTitle ?? undefined],
        ['published', e.publishedAt === null ? undefined : isoDay(e.publishedAt)],
        ['duration_minutes', e.durationMs ? Math.round(e.durationMs / 60_000) : undefined],
        ['url', e.link ?? undefined],
        ['audio', e.audio ?? undefined],
        ...(['person', 'organization', 'place', 'topic'] as EntityKind[]).map(
          (type) => [TYPE_KEY[type], byType.get(type)] as [string, unknown],
        ),
      ],
      initialFrontMatter: [['tags', ['podcast']]],
      sections,
    };
    writeNote(path.join(dir, rel), parts, view);
    view.episodes++;
  }

  // Each entity's note links the episodes that name it and have a note in this vault.
  for (const [id, ent] of entities) {
    const rel = entityNote.get(id)!;
    const lines = ['## Episodes', ''];
    for (const ep of ent.episodes) {
      const target = notes.get(`episode-${ep.episodeId}`);
      if (!target) continue;
      const facts = [
        ep.feedTitle,
        ep.publishedAt === null ? null : isoDay(ep.publishedAt),
        ROLE[ep.role] || null,
        `${ep.mentions} mention${ep.mentions === 1 ? '' : 's'}`,
      ].filter(Boolean);
      lines.push(`- ${link(rel, target, ep.title ?? 'Untitled')} (${mdText(facts.join(', '))})`);
    }
    const parts: NoteParts = {
      frontMatter: [
        ['earshot_id', `entity-${id}`],
        ['type', ent.type],
        ['aliases', ent.aliases.length > 0 ? ent.aliases : undefined],
        ['episodes', ent.episodeCount],
      ],
      initialFrontMatter: [['tags', [`podcast/${ent.type}`]]],
      sections: [
        ['header', `# ${mdText(ent.name)}`],
        ['episodes', lines.join('\n')],
      ],
    };
    writeNote(path.join(dir, rel), parts, view);
    view.entities++;
  }
}

function writeNote(file: string, parts: NoteParts, counts: Counts): void {
  let old: string | null = null;
  try {
    old = fs.readFileSync(file, 'utf8');
  } catch {
    old = null;
  }
  const fresh = newNote(parts);
  // A note the reader never touched is the note Earshot would write now: no merge needed.
  writeIfChanged(file, old === null || old === fresh ? fresh : mergeNote(old, parts), counts, old);
}
