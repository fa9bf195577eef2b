import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { IngestError } from '../ingest/errors.ts';
import { clause } from '../clause.ts';
// Checks made inside an action: reported by main() as one line (commander prints only its own).
import { ApiInputError } from '../api/schemas.ts';
import type { FeedProgressEvent } from '../api/contract.ts';
import type { App } from '../api/app.ts';
import {
  ago,
  count,
  fitTable,
  globals,
  outputWidth,
  positiveInt,
  print,
  table,
  when,
  withApp,
} from './io.ts';

/**
 * While many feeds are checked: a bar on stderr when it is a terminal (and not --json), else
 * nothing. Returns the function that stops it.
 */
function feedProgress(app: App, cmd: Command, doing: string): () => void {
  if (!process.stderr.isTTY || globals(cmd).json) return () => {};
  let drawn = false;
  const onProgress = (p: FeedProgressEvent) => {
    const width = 24;
    const filled = Math.round((p.done / Math.max(1, p.total)) * width);
    process.stderr.write(
      `\r${doing} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done} of ${count(p.total, 'feed')}\x1b[K`,
    );
    drawn = true;
  };
  app.events.on('onFeedProgress', onProgress);
  return () => {
    app.events.off('onFeedProgress', onProgress);
    if (drawn) process.stderr.write('\r\x1b[K');
  };
}
import { commitFile } from '../base/artifacts.ts';

const feedId = (value: string) => positiveInt(value, 'a feed id (see `earshot feeds`)');

function minutes(ms: number | null): string {
  if (ms === null) return '-';
  const m = Math.round(ms / 60_000);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
}

export function registerFeedCommands(program: Command): void {
  program
    .command('subscribe')
    .argument('<url>', 'the feed address (http or https)')
    .option(
      '--backlog <policy>',
      'which older episodes to process: new, all, last:N or since:YYYY-MM-DD (default last:3)',
    )
    .description('follow a podcast: fetches and reads its feed at once')
    .action(async (url: string, opts: { backlog?: string }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const feed = await app.subscribe(url, opts.backlog);
        print(
          cmd,
          feed,
          () =>
            `Subscribed to ${feed.title ?? feed.url} (feed ${feed.id}): ${count(feed.episodeCount, 'episode')}, backlog ${feed.backlog}.`,
        );
      });
    });

  program
    .command('unsubscribe')
    .argument('<feed-id>', 'the feed id (see `earshot feeds`)', feedId)
    .description('stop following a podcast and remove its episodes from the library')
    .action(async (id: number, _opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const feed = await app.unsubscribe(id);
        print(cmd, feed, () => `Unsubscribed from ${feed.title ?? feed.url}.`);
      });
    });

  program
    .command('refresh')
    .argument('[feed-id]', 'one feed (default: all)', feedId)
    .description('check feeds for new episodes now')
    .action(async (id: number | undefined, _opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const stop = feedProgress(app, cmd, 'Checking');
        const r = await app.refresh(id).finally(stop);
        print(cmd, r, () => {
          if (id !== undefined) {
            const [x] = r.refreshed;
            if (!x) return `feed ${id}: ${r.failed[0]?.error}`;
            return x.notModified
              ? `feed ${x.feedId}: unchanged`
              : `feed ${x.feedId}: ${x.added} new, ${x.updated} updated${x.movedTo ? `, moved to ${x.movedTo}` : ''}`;
          }
          const total = r.refreshed.length + r.failed.length;
          if (total === 0) return 'You follow no podcasts yet: `earshot subscribe URL`.';
          const added = r.refreshed.reduce((n, x) => n + x.added, 0);
          const withNew = r.refreshed.filter((x) => x.added > 0).length;
          // One line however many feeds: the reasons are on each feed (`earshot feeds`).
          return (
            `Checked ${count(total, 'feed')}: ${count(added, 'new episode')}` +
            (added > 0 ? ` in ${count(withNew, 'feed')}` : '') +
            (r.failed.length > 0
              ? `; ${r.failed.length} could not be read (\`earshot feeds\` says why).`
              : '.')
          );
        });
        if (r.failed.length > 0 && r.refreshed.length === 0) process.exitCode = 1;
      });
    });

  program
    .command('feeds')
    .description('the podcasts you follow, with when they were last checked and why a check failed')
    .action(async (_opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const feeds = await app.feeds();
        print(cmd, feeds, () =>
          feeds.length === 0
            ? 'You follow no podcasts yet: `earshot subscribe URL`.'
            : // Fits the terminal (80 columns when not one): titles and problems are cut, with "…";
              // `--json` has them whole.
              fitTable(
                [
                  ['ID', 'TITLE', 'EPISODES', 'CHECKED', 'NEXT', 'PROBLEM'],
                  ...feeds.map((f) => [
                    String(f.id),
                    f.title ?? f.url,
                    String(f.episodeCount),
                    ago(f.lastRefreshAt),
                    f.nextRefreshAt === null
                      ? '-'
                      : `in ${minutes(Math.max(0, f.nextRefreshAt - Date.now()))}`,
                    f.lastError ?? '',
                  ]),
                ],
                outputWidth(),
                [1, 5],
              ),
        );
      });
    });

  program
    .command('episodes')
    .option('--feed <feed-id>', 'only this feed', feedId)
    .option('--limit <n>', 'at most this many, newest first (default 100)', (v) => positiveInt(v))
    .description('episodes, newest first')
    .action(async (opts: { feed?: number; limit?: number }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const query = {
          ...(opts.feed === undefined ? {} : { feedId: opts.feed }),
          ...(opts.limit === undefined ? {} : { limit: opts.limit }),
        };
        const eps = await app.episodes(query);
        print(cmd, eps, () =>
          eps.length === 0
            ? 'No episodes.'
            : table([
                ['ID', 'FEED', 'PUBLISHED', 'STATUS', 'TITLE'],
                ...eps.map((e) => [
                  String(e.id),
                  String(e.feedId ?? '-'),
                  when(e.publishedAt).slice(0, 10),
                  e.status,
                  e.title ?? '(untitled)',
                ]),
              ]),
        );
      });
    });

  const opml = program.command('opml').description('import or export your subscriptions as OPML');
  opml
    .command('import')
    .argument('<file>', 'an OPML file exported from a podcast app')
    .option('--backlog <policy>', 'which older episodes to process for each feed (default last:3)')
    .description('follow every podcast in an OPML file')
    .action(async (file: string, opts: { backlog?: string }, cmd: Command) => {
      let doc: string;
      try {
        doc = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new IngestError(
          'OPML_UNREADABLE',
          `Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : clause((err as Error).message)}.`,
        );
      }
      await withApp(cmd, async (app) => {
        const stop = feedProgress(app, cmd, 'Reading');
        const r = await app.importOpml(doc, opts.backlog).finally(stop);
        print(
          cmd,
          r,
          () =>
            // One line however long the list: each feed that cannot be read says why (`earshot feeds`).
            [
              `Added ${count(r.added.length + r.failed.length, 'podcast')}`,
              ...(r.failed.length
                ? [
                    `${r.failed.length} not readable yet (kept and tried again later; \`earshot feeds\` says why)`,
                  ]
                : []),
              ...(r.existing.length ? [`${r.existing.length} you already follow`] : []),
              ...(r.skipped.length
                ? [
                    `${count(r.skipped.length, 'entry', 'entries')} skipped (${r.skipped[0]!.reason}${r.skipped.length > 1 ? ', …' : ''})`,
                  ]
                : []),
            ].join('; ') + '.',
        );
        // Nothing could be read: as much a failure as a bad refresh.
        if (r.failed.length > 0 && r.added.length === 0) process.exitCode = 1;
      });
    });
  opml
    .command('export')
    .argument('<file>', 'where to write the OPML file')
    .description('write your subscriptions to an OPML file')
    .action(async (file: string, _opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const doc = await app.exportOpml();
        const target = path.resolve(file);
        writeFileAtomic(target, doc);
        const feeds = (await app.feeds()).length;
        print(cmd, { file: target, feeds }, () => `Wrote ${count(feeds, 'subscription')} to ${target}.`);
      });
    });

  program
    .command('process')
    .argument('[episode-ids...]', 'episodes to process now, ahead of the background backlog')
    .option('--all', 'every episode the backlog policies queued')
    .option('--whisper', 'transcribe with Whisper even when the publisher has a transcript')
    .description('queue episodes for processing (download, decode, transcribe)')
    .action(async (ids: string[], opts: { all?: boolean; whisper?: boolean }, cmd: Command) => {
      if (ids.length === 0 && !opts.all)
        throw new ApiInputError('Name one or more episode ids, or use --all.');
      const numbers = ids.map((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0)
          throw new ApiInputError(`"${v}" is not an episode id (see \`earshot episodes\`).`);
        return n;
      });
      await withApp(cmd, async (app) => {
        const workflows = await app.process(
          opts.all ? undefined : numbers,
          opts.whisper ? { whisper: 'always' } : undefined,
        );
        print(cmd, { workflows }, () =>
          workflows.length === 0
            ? 'Nothing to process.'
            : `Queued ${count(workflows.length, 'episode')}; \`earshot run\` processes ${workflows.length === 1 ? 'it' : 'them'}.`,
        );
      });
    });

  program
    .command('import')
    .argument('<paths...>', 'audio or video files, or folders of them')
    .description(
      'add your own audio to the library (mp3, m4a, aac, wav, ogg/opus, flac, or the audio of mp4/mkv)',
    )
    .action(async (paths: string[], _opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const r = await app.importFiles(paths);
        if (r.imported.length === 0 && r.duplicates.length === 0) {
          const [first] = r.rejected;
          const more = r.rejected.length > 1 ? ` (and ${r.rejected.length - 1} more)` : '';
          throw new IngestError(
            'IMPORT_NOTHING',
            `Nothing was imported: ${first?.path} — ${clause(first?.reason ?? '')}${more}.`,
          );
        }
        print(cmd, r, () =>
          [
            `Imported ${r.imported.length} file${r.imported.length === 1 ? '' : 's'}.`,
            ...r.imported.map((i) => `  episode ${i.episodeId}: ${i.title}`),
            ...r.duplicates.map((d) => `  already in the library (episode ${d.episodeId}): ${d.path}`),
            ...r.rejected.map((x) => `  not imported: ${x.path} — ${x.reason}`),
          ].join('\n'),
        );
      });
    });
}

/**
 * Write a file whole: into a temporary file beside the target, flushed, then renamed over it; on
 * any failure the temporary file is removed and the error says what to do.
 */
export function writeFileAtomic(target: string, text: string): void {
  const st = fs.statSync(target, { throwIfNoEntry: false });
  if (st?.isDirectory()) {
    throw new IngestError(
      'EXPORT_IS_FOLDER',
      `${target} is a folder; name a file to write to, e.g. ${path.join(target, 'earshot.opml')}.`,
    );
  }
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'wx', 0o644);
    try {
      fs.writeFileSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
    commitFile(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `the folder ${path.dirname(target)} does not exist`
        : code === 'EACCES' || code === 'EPERM'
          ? 'Earshot is not allowed to write there'
          : code === 'ENOSPC'
            ? 'the disk is full'
            : (err as Error).message;
    throw new IngestError(
      'EXPORT_FAILED',
      `Could not write ${target}: ${why}. Nothing was written; choose another place.`,
    );
  }
}
