import path from 'node:path';
import { Option, type Command } from 'commander';
import { globals, positiveInt, print, table, withApp } from './io.ts';
import type { DigestQuery, DigestSettingsView, ExportFormat } from '../api/contract.ts';
import { minutes, renderDigestHtml, renderDigestMarkdown, windowText } from '../digest/render.ts';
import { digestJsonSchema } from '../digest/schema.ts';

const DIGEST_FORMATS = ['json', 'md', 'html'] as const;
const EXPORT_FORMATS: ExportFormat[] = ['obsidian', 'md', 'json', 'srt', 'vtt'];

function every(ms: number | null): string {
  if (ms === null) return 'never (off)';
  const days = ms / 86_400_000;
  if (days === 7) return 'every week';
  if (days === 1) return 'every day';
  return Number.isInteger(days) ? `every ${days} days` : `every ${minutes(ms)}`;
}

export function renderSettings(s: DigestSettingsView): string {
  const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  return [
    `A digest is made ${every(s.everyMs)}, with ${minutes(s.budgetMs)} to listen to.`,
    s.lastTo === null ? 'None has been made yet.' : `The last one covers up to ${when(s.lastTo)} UTC.`,
    ...(s.nextAt === null
      ? []
      : [
          `The next is due ${s.nextAt <= Date.now() ? 'now' : `at ${when(s.nextAt)} UTC`} (once its week's episodes are processed; \`earshot run\` or the app makes it).`,
        ]),
  ].join('\n');
}

/** `earshot digest`, `earshot digests`, `earshot digest-schedule` and `earshot export`. */
export function registerDigestCommands(program: Command): void {
  program
    .command('digest')
    .description(
      'the stories of a window across all shows, their best quotes, who and what is rising, and a playlist',
    )
    .option('--since <duration>', 'a window that ends now: 7d (default), 2w, 36h')
    .option('--from <date>', 'start of the window, YYYY-MM-DD')
    .option('--to <date>', 'end of the window, YYYY-MM-DD (that whole day)')
    .option('--budget <duration>', 'listening time for the playlist: 30m (default), 1h, 1h30m')
    .option('--id <n>', 'a stored digest (see `earshot digests`) instead of making one', (v) =>
      positiveInt(v, 'a digest id (see `earshot digests`)'),
    )
    .addOption(
      new Option('--format <format>', 'md (default), html or json (json with --json)').choices(
        DIGEST_FORMATS,
      ),
    )
    .option('--schema', "print the digest's JSON Schema and exit")
    .action(
      async (
        opts: {
          since?: string;
          from?: string;
          to?: string;
          budget?: string;
          id?: number;
          format?: (typeof DIGEST_FORMATS)[number];
          schema?: boolean;
        },
        cmd: Command,
      ) => {
        if (opts.schema) {
          process.stdout.write(`${JSON.stringify(digestJsonSchema(), null, 2)}\n`);
          return;
        }
        const format = opts.format ?? (globals(cmd).json ? 'json' : 'md');
        const query: DigestQuery = {
          ...(opts.since !== undefined ? { since: opts.since } : {}),
          ...(opts.from !== undefined ? { from: opts.from } : {}),
          ...(opts.to !== undefined ? { to: opts.to } : {}),
          ...(opts.budget !== undefined ? { budget: opts.budget } : {}),
        };
        await withApp(cmd, async (app) => {
          const d = opts.id !== undefined ? await app.savedDigest(opts.id) : await app.digest(query);
          process.stdout.write(
            format === 'json'
              ? `${JSON.stringify(d, null, 2)}\n`
              : format === 'html'
                ? renderDigestHtml(d)
                : renderDigestMarkdown(d),
          );
        });
      },
    );

  program
    .command('digests')
    .description('the digests the schedule made, newest first (`earshot digest --id N` prints one)')
    .option('--limit <n>', 'how many (default 52)', (v) => positiveInt(v))
    .action(async (opts: { limit?: number }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const list = await app.digests(opts.limit ? { limit: opts.limit } : {});
        print(cmd, list, () =>
          list.length === 0
            ? 'No digest yet: `earshot run` (or the app) makes one each week; `earshot digest` makes one now.'
            : table([
                ['ID', 'WINDOW', 'STORIES', 'EPISODES'],
                ...list.map((d) => [
                  String(d.id),
                  windowText(d.window),
                  String(d.stories),
                  String(d.episodes),
                ]),
              ]),
        );
      });
    });

  program
    .command('digest-schedule')
    .description('how often a digest is made and how long its playlist is')
    .option('--every <duration>', 'a digest every 7d (default), 1d, …, or off')
    .option('--budget <duration>', 'listening time for its playlist: 30m (default), 1h')
    .action(async (opts: { every?: string; budget?: string }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const s =
          opts.every !== undefined || opts.budget !== undefined
            ? await app.setDigestSettings({
                ...(opts.every !== undefined ? { every: opts.every } : {}),
                ...(opts.budget !== undefined ? { budget: opts.budget } : {}),
              })
            : await app.digestSettings();
        print(cmd, s, () => renderSettings(s));
      });
    });

  program
    .command('export')
    .argument('<dir>', 'the folder to write into (made if missing; your own notes in it are kept)')
    .addOption(
      new Option('--format <format>', 'obsidian (default), md, json, srt or vtt').choices(EXPORT_FORMATS),
    )
    .option('--feed <id>', "only this show's episodes (see `earshot feeds`)", (v) =>
      positiveInt(v, 'a feed id (see `earshot feeds`)'),
    )
    .option('--since <date>', 'only episodes published on or after YYYY-MM-DD')
    .description(
      'write the library to a folder: an Obsidian or Markdown vault (re-export keeps your edits), JSON, or subtitles',
    )
    .action(
      async (dir: string, opts: { format?: ExportFormat; feed?: number; since?: string }, cmd: Command) => {
        await withApp(cmd, async (app) => {
          const v = await app.exportLibrary(dir.startsWith('~') ? dir : path.resolve(dir), {
            format: opts.format ?? 'obsidian',
            ...(opts.feed !== undefined ? { feedId: opts.feed } : {}),
            ...(opts.since !== undefined ? { since: opts.since } : {}),
          });
          print(cmd, v, () =>
            [
              `Exported ${v.episodes} episode${v.episodes === 1 ? '' : 's'}${v.entities ? ` and ${v.entities} people and topics` : ''} to ${v.dir} (${v.format}): ${v.written} file${v.written === 1 ? '' : 's'} written, ${v.unchanged} already up to date.`,
              ...v.skipped.map((s) => `  left out #${s.episodeId} ${s.title ?? '(untitled)'}: ${s.reason}`),
            ].join('\n'),
          );
        });
      },
    );
}
