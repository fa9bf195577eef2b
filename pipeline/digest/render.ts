import { escapeUTF8 } from 'entities';
import type { DigestInsightView, DigestView, RisingEntityView } from '../api/contract.ts';

/**
 * A digest as Markdown and as a standalone HTML page. Every piece of text that comes from a
 * feed or a transcript is escaped (HTML: the `entities` package's escapeUTF8, which escapes
 * & < > " ' — safe in text and in attributes alike; Markdown: the characters that would start
 * markup), so nothing in an episode can inject markup.
 */

export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 1) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

const dayFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
const day = (ms: number) => dayFormat.format(new Date(ms));

/** "2 Mar 2026 – 8 Mar 2026" (the window's end is exclusive: its last day is shown). */
export function windowText(w: { from: number; to: number }): string {
  const first = day(w.from);
  const last = day(w.to - 1);
  return first === last ? first : `${first} – ${last}`;
}

export function digestTitle(d: DigestView): string {
  return `Your digest: ${windowText(d.window)}`;
}

export function countsText(d: DigestView): string {
  const shows = d.counts.shows;
  const stories = d.stories.length;
  return `${stories} ${stories === 1 ? 'story' : 'stories'} from ${d.counts.understood} episode${d.counts.understood === 1 ? '' : 's'} across ${shows} show${shows === 1 ? '' : 's'}.`;
}

function risingText(r: RisingEntityView): string {
  return `${r.name} (${r.episodes} episodes, ${r.previousEpisodes === 0 ? 'none' : r.previousEpisodes} before)`;
}

const KIND: Record<DigestInsightView['type'], string> = {
  claim: 'Claim',
  recommendation: 'Recommendation',
  observation: 'Observation',
  question: 'Question',
};

/** Backslash-escape what CommonMark would read as markup inside a line. */
const MD_SPECIAL = /[\\`*_{}[\]<>#|!~]/;
const MD_SPECIALS = /[\\`*_{}[\]<>#|!~]/g;
const ODD_SPACE = /\s\s|[^\S ]/;
export function mdText(text: string): string {
  // Tested first: most transcript text needs neither (and a test allocates nothing).
  let out = ODD_SPACE.test(text) ? text.replace(/\s+/g, ' ') : text;
  if (MD_SPECIAL.test(out)) out = out.replace(MD_SPECIALS, '\\$&');
  return out;
}

function episodeTitle(d: DigestView, episodeId: number): string {
  for (const s of d.stories)
    for (const e of s.episodes) if (e.episodeId === episodeId) return e.title ?? 'Untitled';
  return 'Untitled';
}

/** Whether an insight says no more than its quote (then only the quote is shown). */
export function insightIsQuote(i: DigestInsightView): boolean {
  const plain = (t: string) =>
    t
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim();
  return plain(i.text) === plain(i.quote.text);
}

function quoteTime(i: DigestInsightView): string {
  return i.quote.startMs === null ? '' : `, ${clock(i.quote.startMs)}`;
}

export function renderDigestMarkdown(d: DigestView): string {
  const out: string[] = [`# ${mdText(digestTitle(d))}`, '', mdText(countsText(d)), ''];
  if (d.playlist.items.length > 0) {
    out.push(`## Listen in ${minutes(d.playlist.budgetMs)}`, '');
    out.push(`${minutes(d.playlist.totalMs)} picked from the stories below.`, '');
    d.playlist.items.forEach((p, i) => {
      out.push(
        `${i + 1}. **${mdText(p.episodeTitle ?? 'Untitled')}**${p.feedTitle ? ` (${mdText(p.feedTitle)})` : ''}, ${clock(p.startMs)}–${clock(p.endMs)}: ${mdText(p.title)}`,
      );
    });
    out.push('');
  }
  out.push('## Stories', '');
  d.stories.forEach((s, n) => {
    out.push(`### ${n + 1}. ${mdText(s.title)}`, '');
    for (const e of s.episodes) {
      const meta = [e.feedTitle, e.publishedAt === null ? null : day(e.publishedAt)]
        .filter(Boolean)
        .join(', ');
      out.push(`- ${mdText(e.title ?? 'Untitled')}${meta ? ` (${mdText(meta)})` : ''}`);
    }
    out.push('');
    for (const i of s.insights) {
      out.push(insightIsQuote(i) ? `**${KIND[i.type]}:**` : `**${KIND[i.type]}:** ${mdText(i.text)}`, '');
      out.push(`> “${mdText(i.quote.text)}” (${mdText(episodeTitle(d, i.episodeId))}${quoteTime(i)})`, '');
    }
    if (s.entities.length > 0)
      out.push(`Who and what: ${s.entities.map((e) => mdText(e.name)).join(', ')}`, '');
  });
  if (d.stories.length === 0) out.push('No episode of this window is understood yet.', '');
  if (d.rising.people.length + d.rising.topics.length > 0) {
    out.push('## Rising', '');
    if (d.rising.people.length > 0)
      out.push(`People: ${d.rising.people.map((r) => mdText(risingText(r))).join('; ')}`, '');
    if (d.rising.topics.length > 0)
      out.push(`Topics: ${d.rising.topics.map((r) => mdText(risingText(r))).join('; ')}`, '');
  }
  if (d.notes.length > 0) out.push('## Notes', '', ...d.notes.map((n) => `- ${mdText(n)}`), '');
  return `${out.join('\n').trimEnd()}\n`;
}

const h = (text: string) => escapeUTF8(text);

const STYLE = `
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fff; --muted: #6e6e73; --rule: #e5e5ea; --accent: #0a66d1; }
@media (prefers-color-scheme: dark) { :root { --fg: #f5f5f7; --bg: #1c1c1e; --muted: #98989d; --rule: #3a3a3c; --accent: #3d9bff; } }
body { font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif; color: var(--fg); background: var(--bg); max-width: 46rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.8rem; margin-bottom: 0.25rem; } h2 { margin-top: 2.5rem; } .muted { color: var(--muted); }
.story { border-top: 1px solid var(--rule); padding-top: 1rem; margin-top: 1.5rem; }
.episodes { list-style: none; padding: 0; color: var(--muted); font-size: 0.92rem; }
blockquote { margin: 0.4rem 0 1rem; padding-left: 0.9rem; border-left: 3px solid var(--accent); }
.time { font-variant-numeric: tabular-nums; color: var(--accent); }
.chips span { display: inline-block; border: 1px solid var(--rule); border-radius: 999px; padding: 0 0.6rem; margin: 0 0.3rem 0.3rem 0; font-size: 0.85rem; }
`;

export function renderDigestHtml(d: DigestView): string {
  const parts: string[] = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${h(digestTitle(d))}</title><style>${STYLE}</style></head><body>`,
    `<h1>${h(digestTitle(d))}</h1>`,
    `<p class="muted">${h(countsText(d))}</p>`,
  ];
  if (d.playlist.items.length > 0) {
    parts.push(
      `<h2>Listen in ${h(minutes(d.playlist.budgetMs))}</h2>`,
      `<p class="muted">${h(minutes(d.playlist.totalMs))} picked from the stories below.</p><ol class="playlist">`,
    );
    for (const p of d.playlist.items)
      parts.push(
        `<li><strong>${h(p.episodeTitle ?? 'Untitled')}</strong>${p.feedTitle ? ` <span class="muted">${h(p.feedTitle)}</span>` : ''} <span class="time">${clock(p.startMs)}–${clock(p.endMs)}</span><br>${h(p.title)}</li>`,
      );
    parts.push('</ol>');
  }
  parts.push('<h2>Stories</h2>');
  if (d.stories.length === 0) parts.push('<p class="muted">No episode of this window is understood yet.</p>');
  d.stories.forEach((s, n) => {
    parts.push(
      `<section class="story" id="${h(s.id)}"><h3>${n + 1}. ${h(s.title)}</h3><ul class="episodes">`,
    );
    for (const e of s.episodes)
      parts.push(
        `<li>${h(e.title ?? 'Untitled')}${e.feedTitle ? ` · ${h(e.feedTitle)}` : ''}${e.publishedAt === null ? '' : ` · ${h(day(e.publishedAt))}`}</li>`,
      );
    parts.push('</ul>');
    for (const i of s.insights)
      parts.push(
        `<p><strong>${KIND[i.type]}:</strong>${insightIsQuote(i) ? '' : ` ${h(i.text)}`}</p>`,
        `<blockquote>“${h(i.quote.text)}”<br><span class="muted">${h(episodeTitle(d, i.episodeId))}</span>${i.quote.startMs === null ? '' : ` <span class="time">${clock(i.quote.startMs)}</span>`}</blockquote>`,
      );
    if (s.entities.length > 0)
      parts.push(`<p class="chips">${s.entities.map((e) => `<span>${h(e.name)}</span>`).join('')}</p>`);
    parts.push('</section>');
  });
  if (d.rising.people.length + d.rising.topics.length > 0) {
    parts.push('<h2>Rising</h2>');
    for (const [label, list] of [
      ['People', d.rising.people],
      ['Topics', d.rising.topics],
    ] as const)
      if (list.length > 0)
        parts.push(`<p><strong>${label}:</strong> ${list.map((r) => h(risingText(r))).join('; ')}</p>`);
  }
  if (d.notes.length > 0)
    parts.push(`<h2>Notes</h2><ul>${d.notes.map((x) => `<li>${h(x)}</li>`).join('')}</ul>`);
  parts.push('</body></html>');
  return `${parts.join('\n')}\n`;
}
