import { Option, type Command } from 'commander';
import { positiveInt, print, table, withApp } from './io.ts';
import type {
  CanonicalEntityDetailView,
  CanonicalEntityView,
  EntityKind,
  EpisodeUnderstandingView,
} from '../api/contract.ts';

const ENTITY_KINDS: EntityKind[] = ['person', 'organization', 'place', 'topic'];

function at(ms: number | null): string {
  if (ms === null) return '';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** An episode's understanding for a terminal. Ungrounded insights are labelled as such. */
export function renderShow(v: EpisodeUnderstandingView): string {
  const lines = [
    `${v.title ?? '(untitled)'} — episode ${v.episodeId}`,
    `(${v.tier === 'llm' ? `language model ${v.modelId}` : 'classic tier: no language model'}, ${v.promptVersion})`,
    '',
    'Summary',
    `  ${v.summary.abstract || '(the transcript has no text to summarize)'}`,
  ];
  if (v.summary.keyPoints.length > 0) {
    lines.push('', 'Key points');
    for (const k of v.summary.keyPoints)
      lines.push(`  • ${k.quote ? `[${at(k.quote.startMs)}] ` : ''}${k.text}`);
  }
  if (v.insights.length > 0) {
    lines.push('', 'Insights');
    for (const i of v.insights) {
      lines.push(`  ${i.type}${i.grounded ? '' : ' (not found in the transcript: unverified)'}: ${i.text}`);
      for (const q of i.quotes)
        lines.push(`      “${q.text}” ${q.startMs !== null ? `(${at(q.startMs)}–${at(q.endMs)})` : ''}`);
    }
  }
  if (v.entities.length > 0) {
    lines.push('', 'Entities');
    lines.push(
      table(
        v.entities.map((e) => [
          `  ${e.name}`,
          e.type,
          e.role,
          `${e.mentionCount} mention${e.mentionCount === 1 ? '' : 's'}`,
          e.episodeCount > 1 ? `in ${e.episodeCount} episodes` : '',
          e.aliases.length > 0 ? `also: ${e.aliases.join(', ')}` : '',
        ]),
      ),
    );
  }
  return lines.join('\n');
}

export function renderEntities(list: CanonicalEntityView[]): string {
  if (list.length === 0) return 'No entities yet: they appear once episodes are processed.';
  return table([
    ['ID', 'NAME', 'TYPE', 'EPISODES', 'MENTIONS', 'ALIASES'],
    ...list.map((e) => [
      String(e.id),
      e.name,
      e.type,
      String(e.episodeCount),
      String(e.mentionCount),
      e.aliases.slice(0, 4).join(', '),
    ]),
  ]);
}

export function renderEntity(v: CanonicalEntityDetailView): string {
  const lines = [
    `${v.name} — ${v.type} ${v.id}, in ${v.episodeCount} episode${v.episodeCount === 1 ? '' : 's'}`,
  ];
  if (v.aliases.length > 0) lines.push(`also: ${v.aliases.join(', ')}`);
  lines.push(
    '',
    table([
      ['EPISODE', 'PUBLISHED', 'TITLE', 'SHOW', 'ROLE', 'MENTIONS', 'FIRST', 'AS'],
      ...v.episodes.map((e) => [
        String(e.episodeId),
        e.publishedAt === null ? '' : new Date(e.publishedAt).toISOString().slice(0, 10),
        e.title ?? '(untitled)',
        e.feedTitle ?? '',
        e.role,
        String(e.mentions),
        at(e.firstMs),
        e.name === v.name ? '' : e.name,
      ]),
    ]),
  );
  return lines.join('\n');
}

/** `earshot show`, `earshot entities` and `earshot entity`: what an episode is about, and who and what the library talks about. */
export function registerUnderstandCommands(program: Command): void {
  program
    .command('show')
    .argument('<episode-id>', 'the episode (see `earshot episodes`)', (v) =>
      positiveInt(v, 'an episode id (see `earshot episodes`)'),
    )
    .description("an episode's summary, insights with their quotes, and the people, places and topics in it")
    .action(async (id: number, _opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const v = await app.show(id);
        print(cmd, v, () => renderShow(v));
      });
    });

  program
    .command('entities')
    .option('--limit <n>', 'how many (default 100)', (v) => positiveInt(v))
    .addOption(
      new Option('--type <type>', 'only people, organizations, places or topics').choices(ENTITY_KINDS),
    )
    .description('the people, organizations, places and topics across the library, with episode counts')
    .action(async (opts: { limit?: number; type?: EntityKind }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const list = await app.entities({
          ...(opts.limit ? { limit: opts.limit } : {}),
          ...(opts.type ? { type: opts.type } : {}),
        });
        print(cmd, list, () => renderEntities(list));
      });
    });

  program
    .command('entity')
    .argument('<entity-id>', 'the entity (see `earshot entities`)', (v) =>
      positiveInt(v, 'an entity id (see `earshot entities`)'),
    )
    .description('one person, organization, place or topic: its other names and the episodes that name it')
    .action(async (id: number, _opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const v = await app.entity(id);
        print(cmd, v, () => renderEntity(v));
      });
    });
}
