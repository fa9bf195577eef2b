import type { Command } from 'commander';
import type { PlaybackView } from '../api/contract.ts';
import { positiveInt, print, table, when, withApp } from './io.ts';

const episodeId = (value: string) => positiveInt(value, 'an episode id (see `earshot episodes`)');

function minutes(ms: number | null): string {
  return ms === null ? '-' : `${Math.round(ms / 60_000)} min`;
}

function describePlayback(p: PlaybackView): string {
  return p.state === 'played'
    ? `Episode ${p.episodeId} is played.`
    : `Episode ${p.episodeId} is unplayed: it starts from the beginning.`;
}

export function registerListenCommands(program: Command): void {
  program
    .command('inbox')
    .option('--limit <n>', 'at most this many, newest first (default 200)', (v) => positiveInt(v))
    .description(
      'new episodes across your shows, newest first; those since your last visit in the app are marked',
    )
    .action(async (opts: { limit?: number }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const inbox = await app.inbox(opts.limit === undefined ? undefined : { limit: opts.limit });
        print(cmd, inbox, () =>
          inbox.items.length === 0
            ? 'Your inbox is empty: new episodes land here when your shows publish them (`earshot refresh` checks now).'
            : [
                `${inbox.total} in the inbox, ${inbox.newCount} new since your last visit.`,
                table([
                  ['ID', 'NEW', 'PUBLISHED', 'LENGTH', 'SHOW', 'TITLE'],
                  ...inbox.items.map((e) => [
                    String(e.id),
                    e.isNew ? '*' : '',
                    when(e.publishedAt).slice(0, 10),
                    minutes(e.durationMs),
                    e.showTitle,
                    e.title ?? '(untitled)',
                  ]),
                ]),
              ].join('\n'),
        );
      });
    });

  for (const [name, played] of [
    ['played', true],
    ['unplayed', false],
  ] as const) {
    program
      .command(name)
      .argument(
        '<episode-id...>',
        'episode ids (see `earshot episodes` or `earshot inbox`)',
        (value: string, previous: number[] | undefined) => [...(previous ?? []), episodeId(value)],
      )
      .description(
        played
          ? 'mark episodes played (they leave the inbox)'
          : 'mark episodes unplayed: new again, from the start',
      )
      .action(async (ids: number[], _opts, cmd: Command) => {
        await withApp(cmd, async (app) => {
          const result = await app.markPlayed(ids, played);
          print(cmd, result, () => result.map(describePlayback).join('\n'));
        });
      });
  }
}
