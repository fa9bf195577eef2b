import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App, AppContext } from '../../pipeline/api/app.ts';
import { normalizeForMatch } from '../../pipeline/understand/text.ts';
import type { UnderstandOutput } from '../../pipeline/understand/step.ts';
import { cliPath, repoRoot, tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { pipelineLibraries } from '../helpers/engine.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { gloveModelDir } from '../helpers/search-library.ts';

/**
 * Understanding through the real engine and worker processes: a show whose episodes carry the
 * publisher's transcripts (so no Whisper model is needed), then `show`, `entities`, a
 * corrected transcript segment and a language-model switch.
 */
let server: FeedServer;
const audio = fs.readFileSync(makeAudio(tempDir('earshot-understand-audio-'), 'tone.mp3', 5));
const TINY_LLM = path.resolve(repoRoot, 'test/fixtures/models/llm/stories260K.gguf');
const read = (f: string) => fs.readFileSync(path.join(repoRoot, 'test/fixtures/transcripts', f));

beforeAll(async () => {
  server = await startFeedServer();
  server.route('/ql.xml', {
    body: `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"
      xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>The Quiet Lab</title>
      <itunes:author>Mara Quinn</itunes:author>
      <item><guid>ql-12</guid><title>Slow problems</title><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
        <enclosure url="/media/12.mp3" type="audio/mpeg" length="${audio.length}"/>
        <podcast:transcript url="/tx/12.vtt" type="text/vtt" language="en"/></item>
      <item><guid>ql-13</guid><title>Open climate</title><pubDate>Mon, 09 Mar 2026 10:00:00 GMT</pubDate>
        <enclosure url="/media/13.mp3" type="audio/mpeg" length="${audio.length}"/>
        <podcast:transcript url="/tx/13.srt" type="application/srt"/></item>
    </channel></rss>`,
  });
  for (const n of ['12', '13'])
    server.route(`/media/${n}.mp3`, { body: audio, headers: { 'content-type': 'audio/mpeg' } });
  // Two episodes that name one bank two ways, and two different universities.
  server.route('/money.xml', {
    body: `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">
      <channel><title>Money Talk</title>
      <item><guid>mt-1</guid><title>Cautious banks</title><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
        <enclosure url="/media/12.mp3" type="audio/mpeg" length="${audio.length}"/>
        <podcast:transcript url="/tx/mt-1.vtt" type="text/vtt" language="en"/></item>
      <item><guid>mt-2</guid><title>A wrong report</title><pubDate>Mon, 09 Mar 2026 10:00:00 GMT</pubDate>
        <enclosure url="/media/13.mp3" type="audio/mpeg" length="${audio.length}"/>
        <podcast:transcript url="/tx/mt-2.vtt" type="text/vtt" language="en"/></item>
    </channel></rss>`,
  });
  const vtt = (...lines: string[]) =>
    `WEBVTT\n\n${lines.map((l, i) => `00:00:${String(i * 5).padStart(2, '0')}.000 --> 00:00:${String(i * 5 + 5).padStart(2, '0')}.000\n${l}\n`).join('\n')}`;
  server.route('/tx/mt-1.vtt', {
    body: vtt(
      "I'm Mara Quinn, and this is Money Talk.",
      'My guest today is an economist at Deutsche Bank.',
      'She says Deutsche Bank is cautious about rates this year.',
      'Before that she studied at Stanford University, and Stanford University taught her patience.',
    ),
    headers: { 'content-type': 'text/vtt' },
  });
  server.route('/tx/mt-2.vtt', {
    body: vtt(
      "I'm Mara Quinn, and this is Money Talk.",
      'This week the Deutsche Bank Group published a report on housing.',
      'A researcher from Harvard University told me the Deutsche Bank Group report is wrong.',
      'Harvard University has its own numbers, and they are lower.',
    ),
    headers: { 'content-type': 'text/vtt' },
  });
  server.route('/tx/12.vtt', { body: read('quiet-lab-12.vtt'), headers: { 'content-type': 'text/vtt' } });
  server.route('/tx/13.srt', {
    body: read('quiet-lab-13.srt'),
    headers: { 'content-type': 'application/srt' },
  });
});
afterAll(() => server.close());

const { open, runUntilIdle } = pipelineLibraries();

async function processedLibrary(): Promise<{ ctx: AppContext; app: App; ids: Record<string, number> }> {
  const { ctx, app } = await open();
  await app.subscribe(server.url('/ql.xml'), 'all');
  await app.process();
  await runUntilIdle(ctx);
  const eps = await app.episodes();
  return { ctx, app, ids: Object.fromEntries(eps.map((e) => [e.title!, e.id])) };
}

function understandRuns(
  ctx: AppContext,
  episodeId: number,
): { workflow_id: string; output: string; reused_from: string | null }[] {
  return ctx.db
    .prepare(
      `SELECT s.workflow_id, s.output, s.reused_from FROM steps s JOIN workflows w ON w.seq = s.wf_seq
       WHERE w.subject = (SELECT key FROM episodes WHERE id = ?) AND s.name = 'understand' AND s.status = 'completed'
       ORDER BY w.seq`,
    )
    .all(episodeId) as { workflow_id: string; output: string; reused_from: string | null }[];
}

describe('understanding on the cpu lane', () => {
  it('summarizes, grounds insights, builds the graph and merges entities across episodes', async () => {
    const { ctx, app, ids } = await processedLibrary();
    expect(ctx.db.prepare('SELECT status, count(*) AS n FROM workflows GROUP BY status').all()).toEqual([
      { status: 'completed', n: 2 },
    ]);
    const arts = ctx.db
      .prepare(
        `SELECT kind, schema_version, model_id, prompt_version FROM artifacts WHERE episode_id = ? AND kind IN ('summary', 'gi', 'kg') ORDER BY kind`,
      )
      .all(ids['Slow problems']);
    expect(arts).toEqual(
      ['gi', 'kg', 'summary'].map((kind) => ({
        kind,
        schema_version: 1,
        model_id: null,
        prompt_version: 'classic-4',
      })),
    );
    // The episodes say what there is to read, from the artifacts (not from their status).
    expect((await app.episodes()).map((e) => [e.title, e.hasTranscript, e.understood])).toEqual([
      ['Open climate', true, true],
      ['Slow problems', true, true],
    ]);
    const show = await app.show(ids['Slow problems']!);
    expect(show).toMatchObject({ tier: 'classic', modelId: null, title: 'Slow problems' });
    expect(show.summary.abstract.length).toBeGreaterThan(50);
    expect(show.insights.length).toBeGreaterThan(3);
    const transcript = await app.transcript(ids['Slow problems']!);
    const full = transcript.segments.map((s) => s.text).join(' ');
    for (const i of show.insights)
      for (const q of i.quotes)
        expect(normalizeForMatch(full.slice(q.charStart, q.charEnd)).norm).toBe(
          normalizeForMatch(q.text).norm,
        );
    const roles = Object.fromEntries(
      show.entities.filter((e) => e.type === 'person').map((e) => [e.name, e.role]),
    );
    expect(roles).toMatchObject({ 'Mara Quinn': 'host', 'Sarah Chen': 'guest', 'Lex Fridman': 'mentioned' });
    expect(show.entities.find((e) => e.name === 'Lex Fridman')).toMatchObject({ episodeCount: 2 });

    const people = await app.entities({ type: 'person' });
    expect(people.filter((e) => e.name === 'Lex Fridman')).toEqual([
      expect.objectContaining({ episodeCount: 2, mentionCount: 4 }),
    ]);
    expect(people.find((e) => e.name === 'Mara Quinn')).toMatchObject({ episodeCount: 2 });
    expect((await app.entities({ limit: 3 })).length).toBe(3);
    await expect(app.show(999)).rejects.toThrow(/There is no episode 999/);
  });

  it('with an embedding model, merges entities by meaning; without it, or after it is removed, it does not', async () => {
    const library = async (embedding: boolean) => {
      const { ctx, app } = await open();
      const modelId = embedding ? (await app.importModel(gloveModelDir())).model.id : null;
      if (modelId) await app.useModel(modelId);
      await app.subscribe(server.url('/money.xml'), 'all');
      await app.process();
      await runUntilIdle(ctx);
      const ids = Object.fromEntries((await app.episodes()).map((e) => [e.title!, e.id]));
      return { ctx, app, modelId, ids };
    };
    const orgs = async (app: App) =>
      (await app.entities({ type: 'organization' })).map((e) => `${e.name}: ${e.episodeCount}`).sort();

    const plain = await library(false);
    expect(await orgs(plain.app)).toEqual([
      'Deutsche Bank Group: 1',
      'Deutsche Bank: 1',
      'Harvard University: 1',
      'Stanford University: 1',
    ]);

    const { ctx, app, modelId, ids } = await library(true);
    // One entity for the bank, named as the episode understood first named it.
    const merged = (await app.entities({ type: 'organization' })).filter((e) => e.episodeCount === 2);
    expect(merged).toHaveLength(1);
    const bank = merged[0]!;
    expect([bank.name, ...bank.aliases].sort()).toEqual(['Deutsche Bank', 'Deutsche Bank Group']);
    expect(await orgs(app)).toEqual(
      [`${bank.name}: 2`, 'Harvard University: 1', 'Stanford University: 1'].sort(),
    );
    const detail = await app.entity(bank.id);
    expect(detail.episodes.map((e) => [e.title, e.name])).toEqual([
      ['A wrong report', 'Deutsche Bank Group'],
      ['Cautious banks', 'Deutsche Bank'],
    ]);
    // Whichever episode ran second proposed the merge; both name the model.
    const episodes = [ids['Cautious banks']!, ids['A wrong report']!];
    const outs = episodes.map((id) => JSON.parse(understandRuns(ctx, id).at(-1)!.output) as UnderstandOutput);
    expect(outs.map((o) => o.entityModel)).toEqual([modelId, modelId]);
    expect(outs.flatMap((o) => Object.values(o.entityMatches))).toEqual([
      expect.objectContaining({ canonicalId: bank.id, score: expect.any(Number) }),
    ]);
    // The search's entity filter finds both episodes by the entity's id.
    const found = await app.search('report cautious', { entity: String(bank.id) });
    expect(new Set(found.hits.map((h) => h.episodeId))).toEqual(new Set(episodes));
    // And by either name, although the merge by meaning left no alias row behind.
    for (const name of ['Deutsche Bank', 'deutsche bank group']) {
      const byName = await app.search('report cautious', { entity: name });
      expect(new Set(byName.hits.map((h) => h.episodeId))).toEqual(new Set(episodes));
    }

    // Without the model, the episodes are understood again (the fingerprint changed) and the merge is gone.
    await app.removeModel(modelId!);
    await app.process(episodes);
    await runUntilIdle(ctx);
    for (const id of episodes) {
      const runs = understandRuns(ctx, id);
      expect(runs).toHaveLength(2);
      expect(runs[1]!.reused_from).toBeNull();
    }
    expect(await orgs(app)).toEqual([
      'Deutsche Bank Group: 1',
      'Deutsche Bank: 1',
      'Harvard University: 1',
      'Stanford University: 1',
    ]);
    for (const e of await app.entities({ type: 'organization' })) expect(e.aliases).toEqual([]);
    await expect(app.entity(999_999)).rejects.toThrow(/There is no entity 999999/);
  });

  it('a corrected segment re-runs understanding (not transcription) and moves the quote offsets', async () => {
    const { ctx, app, ids } = await processedLibrary();
    const id = ids['Slow problems']!;
    const before = await app.show(id);
    const t0 = await app.transcript(id);
    // A quote after segment 2, in the second half of the episode.
    const later = before.insights
      .flatMap((i) => i.quotes)
      .find((q) => q.charStart > t0.segments[2]!.text.length + 200)!;
    expect(later).toBeDefined();
    const added = ' Sorry, the group is part of the materials science department.';
    const edit = await app.editSegment(id, 1, t0.segments[1]!.text + added);
    expect(edit.rerun[0]).toBe('understand');
    expect(edit.rerun).not.toContain('transcribe');
    await runUntilIdle(ctx);
    const after = await app.show(id);
    expect(after.transcriptSha256).not.toBe(before.transcriptSha256);
    const moved = after.insights.flatMap((i) => i.quotes).find((q) => q.text === later.text);
    expect(moved).toBeDefined();
    expect(moved!.charStart).toBe(later.charStart + added.length);
    expect(moved!.startMs).toBe(later.startMs);
    const t1 = await app.transcript(id);
    expect(t1.segments[1]!.text.endsWith('materials science department.')).toBe(true);
    // Transcription and download were not run again: only understanding and what follows it.
    const wf = await app.workflow(edit.workflowId);
    expect(wf.status).toBe('completed');
    const steps = Object.fromEntries(wf.steps.map((s) => [s.name, s]));
    expect(steps.understand!.finishedAt!).toBeGreaterThan(steps.transcribe!.finishedAt!);
    const out = JSON.parse(understandRuns(ctx, id).at(-1)!.output) as UnderstandOutput;
    expect(out.transcriptSha256).toBe(after.transcriptSha256);
    await expect(app.editSegment(id, 99, 'x y')).rejects.toThrow(/Segment 99 does not exist/);
  });

  it('switching the language model re-runs only understanding and what follows', async () => {
    const { ctx, app, ids } = await processedLibrary();
    ctx.db
      .prepare(
        `INSERT INTO settings (key, value, updated_at) VALUES ('model.active.llm', 'test-instruct', 0)`,
      )
      .run();
    await app.process([ids['Open climate']!]);
    await runUntilIdle(ctx);
    const wf = ctx.db
      .prepare(
        `SELECT id, dead_reason FROM workflows WHERE subject = (SELECT key FROM episodes WHERE id = ?) ORDER BY seq`,
      )
      .all(ids['Open climate']) as { id: string; dead_reason: string | null }[];
    expect(wf).toHaveLength(2);
    // The model is not installed: understanding stops with what to do; nothing before it ran again.
    expect(wf[1]!.dead_reason).toMatch(/test-instruct is not installed.*earshot models/);
    const reused = ctx.db
      .prepare(`SELECT name FROM steps WHERE workflow_id = ? AND reused_from IS NOT NULL ORDER BY position`)
      .all(wf[1]!.id) as { name: string }[];
    expect(reused.map((r) => r.name)).toEqual(['download', 'publisher-transcript', 'decode', 'transcribe']);
  });

  it('the LLM tier through the engine (stories260K): its quotes are kept only when found verbatim', async (t) => {
    if (!fs.existsSync(TINY_LLM)) {
      console.warn(`SKIPPED: ${TINY_LLM} is missing, so the LLM tier was not run through the engine.`);
      t.skip();
    }
    const { ctx, app, ids } = await processedLibrary();
    const model = await app.importModel(TINY_LLM);
    await app.useModel(model.model.id);
    const id = ids['Slow problems']!;
    await app.process([id]);
    await runUntilIdle(ctx);
    const runs = understandRuns(ctx, id);
    expect(runs).toHaveLength(2);
    const out = JSON.parse(runs[1]!.output) as UnderstandOutput;
    expect(out).toMatchObject({ tier: 'llm', modelId: model.model.id, fallback: null });
    const show = await app.show(id);
    expect(show).toMatchObject({ tier: 'llm', modelId: model.model.id });
    expect(show.promptVersion).toMatch(/^llm-/);
    expect(
      ctx.db
        .prepare(
          `SELECT DISTINCT model_id, prompt_version FROM artifacts WHERE episode_id = ? AND kind IN ('summary', 'gi', 'kg')`,
        )
        .all(id),
    ).toEqual([{ model_id: model.model.id, prompt_version: show.promptVersion }]);
    // stories260K writes children's stories, not quotes: whatever it cites must be verbatim, and an
    // insight with nothing verified is flagged, never grounded.
    const full = (await app.transcript(id)).segments.map((s) => s.text).join(' ');
    for (const i of show.insights) {
      expect(i.grounded).toBe(i.quotes.length > 0);
      for (const q of i.quotes)
        expect(normalizeForMatch(full.slice(q.charStart, q.charEnd)).norm).toBe(
          normalizeForMatch(q.text).norm,
        );
    }
    // With a language model, understanding ran on the gpu lane (one job per device; here, with
    // no GPU, one at a time on the CPU), as the episode's latest workflow shows; the classic run
    // before it was CPU work.
    const env = { ...process.env };
    delete env.EARSHOT_WORKFLOWS_MODULE;
    const shown = spawnSync(
      process.execPath,
      [cliPath, '--data-dir', ctx.dataDir, '--json', 'workflow', 'show', '--episode', String(id)],
      { env, encoding: 'utf8', timeout: 60_000 },
    );
    expect(shown.status, shown.stderr).toBe(0);
    const latest = JSON.parse(shown.stdout) as { id: string; steps: { name: string; lane: string }[] };
    expect(latest.id).toBe(runs[1]!.workflow_id);
    expect(latest.steps.map((s) => [s.name, s.lane])).toEqual([
      ['download', 'io'],
      ['publisher-transcript', 'io'],
      ['decode', 'cpu'],
      ['transcribe', 'gpu'],
      ['understand', 'gpu'],
      ['index', 'cpu'],
    ]);
    const classic = await app.workflow(runs[0]!.workflow_id);
    expect(classic.steps.find((s) => s.name === 'understand')!.lane).toBe('cpu');
  });

  it('earshot show and earshot entities from the command line', async () => {
    const { ctx, ids } = await processedLibrary();
    const env = { ...process.env };
    delete env.EARSHOT_WORKFLOWS_MODULE;
    const earshot = (args: string[]) =>
      spawnSync(process.execPath, [cliPath, '--data-dir', ctx.dataDir, ...args], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
    const json = earshot(['show', String(ids['Slow problems']), '--json']);
    expect(json.status, json.stderr).toBe(0);
    const v = JSON.parse(json.stdout);
    expect(v).toMatchObject({ episodeId: ids['Slow problems'], tier: 'classic' });
    expect(v.insights[0].quotes[0]).toEqual(
      expect.objectContaining({ charStart: expect.any(Number), startMs: expect.any(Number) }),
    );
    const human = earshot(['show', String(ids['Slow problems'])]);
    expect(human.stdout).toMatch(/Summary\n {2}\S/);
    expect(human.stdout).toMatch(/Sarah Chen\s+person\s+guest/);
    const ents = JSON.parse(earshot(['--json', 'entities']).stdout);
    expect(ents.find((e: { name: string }) => e.name === 'Lex Fridman')).toMatchObject({ episodeCount: 2 });
    expect(earshot(['entities', '--type', 'place']).stdout).toMatch(/Zurich/);
    const lex = ents.find((e: { name: string }) => e.name === 'Lex Fridman') as { id: number };
    const one = earshot(['entity', String(lex.id)]);
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`^Lex Fridman — person ${lex.id}, in 2 episodes\\n`));
    expect(one.stdout).toMatch(/Open climate\s+The Quiet Lab\s+mentioned/);
    expect(one.stdout).toMatch(/Slow problems\s+The Quiet Lab\s+mentioned/);
    const oneJson = JSON.parse(earshot(['--json', 'entity', String(lex.id)]).stdout);
    expect(oneJson.episodes.map((e: { title: string }) => e.title)).toEqual([
      'Open climate',
      'Slow problems',
    ]);
    expect(earshot(['entity', '424242']).stderr).toMatch(/There is no entity 424242/);
    const missing = earshot(['show', '77']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/There is no episode 77/);
  });
});
