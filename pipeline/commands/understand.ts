import { InvalidArgumentError, Option, type Command } from 'commander';
import { positiveInt, print, table, withApp } from './io.ts';
import type {
  CanonicalEntityDetailView,
  CanonicalEntityView,
  EntityKind,
  EpisodeUnderstandingView,
  GraphQuery,
  GraphView,
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

/** A graph for a terminal: its size, then its biggest nodes and heaviest edges. */
export function renderGraph(v: GraphView, shown = 25): string {
  if (v.nodes.length === 0)
    return 'The graph is empty: entities and their relations appear once episodes are processed (`earshot status`).';
  const label = new Map(v.nodes.map((n) => [n.id, n.label]));
  const cut = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const lines = [
    `${v.focus ? `Around ${label.get(v.focus) ?? v.focus}` : "The library's graph"}: ${v.nodes.length} node${v.nodes.length === 1 ? '' : 's'}${v.matched > v.nodes.length ? ` (of ${v.matched})` : ''}, ${v.edges.length} edge${v.edges.length === 1 ? '' : 's'}`,
    '',
    table([
      ['NODE', 'TYPE', 'LABEL', 'EPISODES'],
      ...v.nodes.slice(0, shown).map((n) => [n.id, n.type, cut(n.label), String(n.episodes)]),
    ]),
  ];
  if (v.nodes.length > shown) lines.push(`… and ${v.nodes.length - shown} more (--json lists them all)`);
  if (v.edges.length > 0) {
    lines.push(
      '',
      table([
        ['FROM', 'KIND', 'TO', 'WEIGHT', 'EPISODES'],
        ...v.edges
          .slice(0, shown)
          .map((e) => [
            cut(label.get(e.source) ?? e.source, 40),
            e.kind,
            cut(label.get(e.target) ?? e.target, 40),
            String(e.weight),
            String(e.episodes),
          ]),
      ]),
    );
    if (v.edges.length > shown) lines.push(`… and ${v.edges.length - shown} more`);
  }
  return lines.join('\n');
}

function entityKinds(value: string, previous: EntityKind[] = []): EntityKind[] {
  const out = [...previous];
  for (const v of value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!ENTITY_KINDS.includes(v as EntityKind))
      throw new InvalidArgumentError(
        `"${v}" is not an entity type; the types are ${ENTITY_KINDS.join(', ')}.`,
      );
    out.push(v as EntityKind);
  }
  return out;
}

/** `earshot show`, `earshot entities`, `earshot entity` and `earshot graph`: what an episode is about, and who and what the library talks about. */
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

  program
    .command('graph')
    .addOption(
      new Option(
        '--entity <id>',
        'one entity in focus, with its neighbours and episodes (see `earshot entities`)',
      )
        .argParser((v) => positiveInt(v, 'an entity id (see `earshot entities`)'))
        .conflicts('episode'),
    )
    .addOption(
      new Option(
        '--episode <id>',
        "one episode's graph: its insights, their quotes and the entities they name",
      ).argParser((v) => positiveInt(v, 'an episode id (see `earshot episodes`)')),
    )
    .option(
      '--type <types>',
      'only these kinds of entity: person, organization, place, topic (comma-separated)',
      entityKinds,
    )
    .option('--feed <id>', "only what one show's episodes say (see `earshot feeds`)", (v) =>
      positiveInt(v, 'a feed id (see `earshot feeds`)'),
    )
    .option('--min-degree <n>', 'leave out nodes with fewer edges than this', (v) => positiveInt(v))
    .option('--limit <n>', 'at most this many nodes, the ones in most episodes first (default 500)', (v) =>
      positiveInt(v),
    )
    .description(
      'the knowledge graph: entities and how they relate (host-of, guest-on, mentions, co-occurs, insight-supports, about)',
    )
    .action(
      async (
        opts: {
          entity?: number;
          episode?: number;
          type?: EntityKind[];
          feed?: number;
          minDegree?: number;
          limit?: number;
        },
        cmd: Command,
      ) => {
        await withApp(cmd, async (app) => {
          const q: GraphQuery = {
            ...(opts.entity ? { entityId: opts.entity } : {}),
            ...(opts.episode ? { episodeId: opts.episode } : {}),
            ...(opts.type?.length ? { types: [...new Set(opts.type)] } : {}),
            ...(opts.feed ? { feedId: opts.feed } : {}),
            ...(opts.minDegree ? { minDegree: opts.minDegree } : {}),
            ...(opts.limit ? { limit: opts.limit } : {}),
          };
          const v = await app.graph(q);
          print(cmd, v, () => renderGraph(v));
        });
      },
    );
}
