import type { Command } from 'commander';
import { ApiInputError } from '../api/schemas.ts';
import type { App } from '../api/app.ts';
import type { FailureActionView, FailureGroupView } from '../api/contract.ts';
import { count, positiveInt, print, withApp } from './io.ts';

function command(g: FailureGroupView, a: FailureActionView): string {
  if (a.kind === 'skip') return `earshot failures skip ${g.id}`;
  return `earshot failures retry ${g.id}${a.kind === 'retry-from' ? ` --from-step ${a.step}` : ''}`;
}

/** The groups for a terminal: what happened, to which episodes, and the commands that act on it. */
export function renderFailures(groups: FailureGroupView[]): string {
  return groups
    .map((g) =>
      [
        g.message,
        ...g.episodes.map((e) => `  #${e.id} ${e.title ?? '(untitled)'}`),
        ...g.actions.map((a) => `  ${a.label}: ${command(g, a)}`),
      ].join('\n'),
    )
    .join('\n\n');
}

function whose(g: FailureGroupView): string {
  return g.show
    ? `${count(g.episodes.length, 'episode')} of ${g.show}`
    : `${count(g.episodes.length, 'file')} you imported`;
}

async function group(app: App, id: string): Promise<FailureGroupView> {
  const g = (await app.failures()).find((x) => x.id === id);
  if (!g) throw new ApiInputError(`There is no failure group ${id}; \`earshot failures\` lists them.`);
  return g;
}

/** `earshot failures` (and its retry/skip), and `earshot skip`. */
export function registerFailureCommands(program: Command): void {
  const failures = program
    .command('failures')
    .description('what failed, grouped by cause and show, with what you can do about it')
    .action(async (_opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const groups = await app.failures();
        print(cmd, groups, () => {
          if (groups.length > 0) return renderFailures(groups);
          return 'Nothing has failed.';
        });
      });
    });

  failures
    .command('retry')
    .argument('<group>', 'a group id from `earshot failures` (e.g. audio-missing@3)')
    .option('--from-step <step>', 'run this step and every later one again (e.g. download)')
    .description("try a group's episodes again")
    .action(async (id: string, opts: { fromStep?: string }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const g = await group(app, id);
        const workflows = g.episodes.flatMap((e) => (e.workflowId ? [e.workflowId] : []));
        if (workflows.length === 0)
          throw new ApiInputError(
            `${g.message} There is nothing to try again: \`earshot failures skip ${g.id}\` dismisses it.`,
          );
        const views = [];
        for (const w of workflows) views.push(await app.retry(w, opts.fromStep));
        print(cmd, views, () => `Trying ${whose(g)} again.`);
      });
    });

  failures
    .command('skip')
    .argument('<group>', 'a group id from `earshot failures`')
    .description("stop trying a group's episodes (they stay in your library), or dismiss its note")
    .action(async (id: string, _opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const g = await group(app, id);
        const episodes = await app.skipEpisodes(g.episodes.map((e) => e.id));
        print(cmd, episodes, () =>
          g.severity === 'failed' ? `Skipped ${whose(g)}.` : `Dismissed the note on ${whose(g)}.`,
        );
      });
    });

  program
    .command('skip')
    .argument(
      '<episode-ids...>',
      'episodes to stop trying (see `earshot failures`)',
      (v, all: number[] = []) => [...all, positiveInt(v, 'an episode id (see `earshot episodes`)')],
    )
    .description(
      'stop trying episodes that failed or wait (they stay in your library); `earshot process ID` brings one back',
    )
    .action(async (numbers: number[], _opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const episodes = await app.skipEpisodes(numbers);
        print(cmd, episodes, () => `Skipped ${count(episodes.length, 'episode')}.`);
      });
    });
}
