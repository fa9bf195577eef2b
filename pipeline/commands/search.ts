import type { Command } from 'commander';
import { globals, positiveInt, print, when, withApp } from './io.ts';
import type { SearchQuery, SearchView } from '../api/contract.ts';

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  return (hms[0] ? hms : hms.slice(1))
    .map((n, i) => (i === 0 ? String(n) : String(n).padStart(2, '0')))
    .join(':');
}

/** The hits for a terminal: highlights in bold when it is one, else between [ ]. */
export function renderSearch(r: SearchView, tty: boolean): string {
  const [on, off] = tty ? ['\u001b[1m', '\u001b[22m'] : ['[', ']'];
  const lines: string[] = [];
  if (r.note) lines.push(r.note, '');
  if (r.hits.length === 0) lines.push(`Nothing found for "${r.query}".`);
  for (const h of r.hits) {
    let snippet = '';
    let at = 0;
    for (const [a, b] of h.highlights) {
      snippet += h.snippet.slice(at, a) + on + h.snippet.slice(a, b) + off;
      at = b;
    }
    snippet += h.snippet.slice(at);
    const where =
      h.startMs !== null ? ` at ${clock(h.startMs)}` : h.kind === 'transcript' ? '' : ` (${h.kind})`;
    lines.push(
      `#${h.episodeId} ${h.episodeTitle ?? '(untitled)'}${where} — ${h.feedTitle ?? 'imported'}${h.publishedAt ? `, ${when(h.publishedAt).slice(0, 10)}` : ''}`,
      `    ${snippet}`,
    );
  }
  return lines.join('\n');
}

/** `earshot search`: hybrid search over the library. */
export function registerSearchCommands(program: Command): void {
  program
    .command('search')
    .argument('<query>', 'words to look for (whole sentences work: meaning counts too)')
    .option('--limit <n>', 'hits to show (default 20)', (v) => positiveInt(v))
    .option('--feed <id>', "only this show's episodes (see `earshot feeds`)", (v) =>
      positiveInt(v, 'a feed id (see `earshot feeds`)'),
    )
    .option('--from <date>', 'only episodes published on or after YYYY-MM-DD')
    .option('--to <date>', 'only episodes published on or before YYYY-MM-DD')
    .option('--entity <name>', 'only episodes that mention this person, organization or topic')
    .description('search transcripts, titles, show notes and insights by words and meaning')
    .action(
      async (
        query: string,
        opts: { limit?: number; feed?: number; from?: string; to?: string; entity?: string },
        cmd: Command,
      ) => {
        const q: SearchQuery = {
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
          ...(opts.feed !== undefined ? { feedId: opts.feed } : {}),
          ...(opts.from !== undefined ? { from: opts.from } : {}),
          ...(opts.to !== undefined ? { to: opts.to } : {}),
          ...(opts.entity !== undefined ? { entity: opts.entity } : {}),
        };
        await withApp(cmd, async (app) => {
          const r = await app.search(query, q);
          print(cmd, r, () => renderSearch(r, !globals(cmd).json && process.stdout.isTTY === true));
        });
      },
    );
}
