import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseSubtitles } from '@plussub/srt-vtt-parser';
import { parseDocument } from 'yaml';
import type { App, AppContext } from '../../pipeline/api/app.ts';
import { cliPath, tempDir } from '../helpers/env.ts';
import { pipelineLibraries } from '../helpers/engine.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';
import { DAY, routeDigestShows } from '../helpers/digest-library.ts';

/**
 * `earshot export` over the multi-show library built through the real engine
 * (test/helpers/digest-library.ts): an Obsidian or Markdown vault whose links resolve and whose
 * reader's edits survive a re-export, JSON artifacts, and subtitles that parse.
 */
const NOW = Date.now();
let server: FeedServer;
let urls: Record<string, string>;

beforeAll(async () => {
  server = await startFeedServer();
  urls = routeDigestShows(server, NOW);
});
afterAll(() => server.close());

const { open, runUntilIdle } = pipelineLibraries();

async function library(): Promise<{ ctx: AppContext; app: App; ids: Record<string, number> }> {
  const { ctx, app } = await open();
  for (const url of Object.values(urls)) await app.subscribe(url, 'all');
  await app.process();
  await runUntilIdle(ctx);
  const eps = await app.episodes();
  return { ctx, app, ids: Object.fromEntries(eps.map((e) => [e.title!, e.id])) };
}

/** Every file under `dir` (relative, with /), hidden ones aside. */
function files(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((d) => {
    if (d.name.startsWith('.')) return [];
    const r = rel ? `${rel}/${d.name}` : d.name;
    return d.isDirectory() ? files(dir, r) : [r];
  });
}

function frontMatter(text: string): Record<string, unknown> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
  expect(m, 'a note starts with front matter').not.toBeNull();
  const doc = parseDocument(m![1]!);
  expect(doc.errors).toEqual([]);
  return doc.toJS() as Record<string, unknown>;
}

const read = (dir: string, rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');

describe('export', () => {
  it('writes an Obsidian vault whose links all resolve; a re-export keeps the reader’s edits', async () => {
    const { app, ids } = await library();
    const dir = tempDir('earshot-vault-');
    const first = await app.exportLibrary(dir, { format: 'obsidian' });
    expect(first).toMatchObject({ dir, format: 'obsidian', episodes: 7, skipped: [] });
    expect(first.entities).toBeGreaterThan(10);
    expect(first.written).toBe(first.episodes + first.entities);
    const notes = files(dir);
    expect(notes.every((f) => f.endsWith('.md'))).toBe(true);
    const byBase = new Map<string, string[]>();
    for (const f of notes)
      byBase.set(path.posix.basename(f, '.md'), [...(byBase.get(path.posix.basename(f, '.md')) ?? []), f]);
    // Obsidian resolves [[name]] by file name: every name is one note.
    expect([...byBase.values()].filter((v) => v.length > 1)).toEqual([]);
    let links = 0;
    for (const f of notes) {
      for (const m of read(dir, f).matchAll(/\[\[([^\]|#]+)(?:[|#][^\]]*)?\]\]/g)) {
        expect(byBase.has(m[1]!), `${f} links to [[${m[1]}]]`).toBe(true);
        links++;
      }
    }
    expect(links).toBeGreaterThan(50);

    const jezeroFile = notes.find((f) => f.endsWith('Rocks from Jezero.md'))!;
    expect(jezeroFile).toMatch(/^Episodes\/Starlight\/\d{4}-\d\d-\d\d Rocks from Jezero\.md$/);
    const jezero = read(dir, jezeroFile);
    const fm = frontMatter(jezero);
    expect(fm).toMatchObject({
      earshot_id: `episode-${ids['Rocks from Jezero']}`,
      title: 'Rocks from Jezero',
      show: 'Starlight',
      published: new Date(NOW - 4 * DAY).toISOString().slice(0, 10),
      tags: ['podcast'],
    });
    expect(fm.people).toEqual(expect.arrayContaining(['[[Jonah Reyes]]', '[[Lena Ortiz]]']));
    expect(fm.organizations).toEqual(['[[NASA]]']);
    for (const section of ['header', 'summary', 'insights', 'entities', 'transcript'])
      expect(jezero).toContain(`<!-- earshot:begin ${section} -->`);
    // Insights with their verbatim quotes and the time, as a link that plays the audio there.
    expect(jezero).toMatch(
      /> “I read that NASA is rethinking that mission because of its cost\.” \(\[0:57\]\(http:\/\/127\.0\.0\.1:\d+\/media\/sl-jezero\.mp3#t=57\)\)/,
    );
    expect(jezero).toMatch(/\*\*People:\*\* .*\[\[Jonah Reyes\]\] \(guest\)/);
    expect(jezero).toMatch(/\*\*\[1:23\]\([^)]+#t=83\)\*\* Jonah: My pleasure\. Clear skies, everyone\./);
    // An entity's note links the episodes that name it.
    const nasa = read(dir, 'Organizations/NASA.md');
    expect(frontMatter(nasa)).toMatchObject({ type: 'organization', episodes: 3 });
    expect(nasa.match(/^- \[\[/gm)).toHaveLength(3);
    expect(nasa).toContain(`[[${path.posix.basename(jezeroFile, '.md')}|Rocks from Jezero]]`);

    // The reader writes in the note, adds a property, moves and renames another note.
    const edited = jezero
      .replace('tags:\n  - podcast\n', 'tags:\n  - podcast\n  - mars\nrating: 5\n')
      .replace(
        '<!-- earshot:begin insights -->',
        'My take: the sample return money matters most.\n\n<!-- earshot:begin insights -->',
      )
      .replace(
        /<!-- earshot:begin summary -->[\s\S]*?<!-- earshot:end summary -->/,
        '<!-- earshot:begin summary -->\nscribbled over\n<!-- earshot:end summary -->',
      );
    fs.writeFileSync(path.join(dir, jezeroFile), `${edited}\n## My notes\n\nAsk Jonah about the tubes.\n`);
    const fedFile = notes.find((f) => f.endsWith('The Fed holds steady.md'))!;
    fs.mkdirSync(path.join(dir, 'Reading'), { recursive: true });
    fs.renameSync(path.join(dir, fedFile), path.join(dir, 'Reading/Fed notes.md'));

    const again = await app.exportLibrary(dir, { format: 'obsidian' });
    // Written again: the note the reader changed, and the notes that link to the one they
    // renamed; everything else was up to date (the renamed note itself too).
    const linkingToRenamed = files(dir).filter((f) => read(dir, f).includes('[[Fed notes|')).length;
    expect(linkingToRenamed).toBeGreaterThan(2);
    expect(again.written).toBe(1 + linkingToRenamed);
    expect(again.unchanged).toBe(first.written - again.written);
    const after = read(dir, jezeroFile);
    expect(after).toContain(
      'My take: the sample return money matters most.\n\n<!-- earshot:begin insights -->',
    );
    expect(after).toMatch(/## My notes\n\nAsk Jonah about the tubes\.\n$/);
    expect(frontMatter(after)).toMatchObject({
      tags: ['podcast', 'mars'],
      rating: 5,
      title: 'Rocks from Jezero',
    });
    // Earshot's own section is Earshot's again.
    expect(after).not.toContain('scribbled over');
    expect(after).toBe(
      edited.replace(
        /<!-- earshot:begin summary -->[\s\S]*?<!-- earshot:end summary -->/,
        /<!-- earshot:begin summary -->[\s\S]*?<!-- earshot:end summary -->/.exec(jezero)![0],
      ) + '\n## My notes\n\nAsk Jonah about the tubes.\n',
    );
    // The moved note is found by its earshot_id: no second copy, and links point at its new name.
    expect(files(dir).filter((f) => f.endsWith('The Fed holds steady.md'))).toEqual([]);
    expect(read(dir, 'Reading/Fed notes.md')).toContain('earshot_id: episode-');
    expect(read(dir, 'People/Jerome Powell.md')).toContain('[[Fed notes|The Fed holds steady]]');
  });

  it('writes plain Markdown with relative links, only what a feed or date asks for', async () => {
    const { app, ctx } = await library();
    const dir = tempDir('earshot-md-');
    const money = (await app.feeds()).find((f) => f.title === 'Money Talk')!;
    const v = await app.exportLibrary(dir, { format: 'md', feedId: money.id });
    expect(v.episodes).toBe(2);
    const notes = files(dir);
    expect(notes.filter((f) => f.startsWith('Episodes/')).sort()).toEqual([
      expect.stringMatching(/^Episodes\/Money Talk\/\d{4}-\d\d-\d\d Housing squeeze\.md$/),
      expect.stringMatching(/^Episodes\/Money Talk\/\d{4}-\d\d-\d\d The Fed holds steady\.md$/),
    ]);
    let links = 0;
    for (const f of notes) {
      const text = read(dir, f);
      expect(text).not.toMatch(/\[\[/);
      for (const m of text.matchAll(/\]\(<([^>]+)>\)/g)) {
        const target = path.posix.join(path.posix.dirname(f), m[1]!);
        expect(fs.existsSync(path.join(dir, target)), `${f} links to ${m[1]}`).toBe(true);
        links++;
      }
    }
    expect(links).toBeGreaterThan(5);
    const since = await app.exportLibrary(tempDir('earshot-md-'), {
      format: 'md',
      since: new Date(NOW - 6 * DAY).toISOString().slice(0, 10),
    });
    expect(since.episodes).toBe(5);
    await expect(app.exportLibrary('notes', { format: 'md' })).rejects.toThrow(/full path/);
    await expect(app.exportLibrary(dir, { feedId: 99 })).rejects.toThrow(/There is no feed 99/);
    void ctx;
  });

  it('writes subtitles that parse back to the transcript, and the JSON artifacts', async () => {
    const { app, ctx, ids } = await library();
    for (const format of ['srt', 'vtt'] as const) {
      const dir = tempDir(`earshot-${format}-`);
      const v = await app.exportLibrary(dir, { format });
      expect(v).toMatchObject({ episodes: 7, skipped: [] });
      const list = files(dir);
      expect(list).toHaveLength(7);
      const file = list.find((f) => f.endsWith(`Rocks from Jezero.${format}`))!;
      expect(file).toMatch(new RegExp(`^Starlight/\\d{4}-\\d\\d-\\d\\d Rocks from Jezero\\.${format}$`));
      const text = read(dir, file);
      const time = format === 'srt' ? '\\d\\d:\\d\\d:\\d\\d,\\d{3}' : '\\d\\d:\\d\\d:\\d\\d\\.\\d{3}';
      if (format === 'vtt') expect(text).toMatch(/^WEBVTT\r?\n\r?\n/);
      else expect(text).toMatch(/^1\r?\n/);
      const cues = text
        .trim()
        .split(/\r?\n\r?\n/)
        .filter((b) => !/^WEBVTT/.test(b));
      const transcript = await app.transcript(ids['Rocks from Jezero']!);
      expect(cues).toHaveLength(transcript.segments.length);
      cues.forEach((cue, i) => {
        const lines = cue.split(/\r?\n/);
        // SRT numbers its cues; WebVTT allows an identifier line (the library writes the number).
        if (format === 'srt' || !lines[0]!.includes('-->')) expect(lines.shift()).toBe(String(i + 1));
        expect(lines[0]).toMatch(new RegExp(`^${time} --> ${time}$`));
      });
      // The types' relative imports lack extensions, so the entries are typed here.
      const parsed = parseSubtitles(text).entries as { from: number; to: number; text: string }[];
      expect(parsed.map((e) => [e.from, e.to])).toEqual(transcript.segments.map((s) => [s.startMs, s.endMs]));
      expect(parsed[1]!.text).toContain(transcript.segments[1]!.text);
    }
    const dir = tempDir('earshot-json-');
    const v = await app.exportLibrary(dir, { format: 'json' });
    expect(v.episodes).toBe(7);
    const index = JSON.parse(read(dir, 'index.json')) as { episodes: { id: number; folder: string }[] };
    expect(index.episodes).toHaveLength(7);
    const jezero = index.episodes.find((e) => e.id === ids['Rocks from Jezero'])!;
    expect(fs.readdirSync(path.join(dir, jezero.folder)).sort()).toEqual([
      'chapters.json',
      'episode.json',
      'graph.json',
      'insights.json',
      'summary.json',
      'transcript.json',
    ]);
    expect(JSON.parse(read(dir, `${jezero.folder}/episode.json`))).toMatchObject({
      title: 'Rocks from Jezero',
      understood: true,
    });
    expect(JSON.parse(read(dir, `${jezero.folder}/insights.json`)).insights.length).toBeGreaterThan(0);
    // The same export again writes nothing.
    expect(await app.exportLibrary(dir, { format: 'json' })).toMatchObject({ written: 0 });

    const env = { ...process.env };
    delete env.EARSHOT_WORKFLOWS_MODULE;
    const out = tempDir('earshot-cli-export-');
    const cli = spawnSync(
      process.execPath,
      [cliPath, '--data-dir', ctx.dataDir, 'export', '--format', 'vtt', out, '--feed', '3'],
      {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^Exported 2 episodes to .* \(vtt\): 2 files written, 0 already up to date\./);
    const bad = spawnSync(
      process.execPath,
      [cliPath, '--data-dir', ctx.dataDir, 'export', '--format', 'pdf', out],
      {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/Allowed choices are obsidian, md, json, srt, vtt/);
  });
});
