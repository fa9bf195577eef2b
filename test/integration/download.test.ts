import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Engine } from '../../pipeline/engine/engine.ts';
import { openDatabase, databasePath, type Db } from '../../pipeline/store/index.ts';
import { Subscriptions } from '../../pipeline/ingest/subscriptions.ts';
import { startEpisodes } from '../../pipeline/ingest/episodes.ts';
import { App, defaultWorkflowsModule, openApp } from '../../pipeline/api/app.ts';
import { validated } from '../../pipeline/api/dispatch.ts';
import { systemClock } from '../../pipeline/engine/clock.ts';
import { repoRoot, tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { pipelineEngine } from '../helpers/engine.ts';
import { installEmptyWhisper } from '../helpers/whisper-install.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';

let server: FeedServer;
beforeAll(async () => {
  server = await startFeedServer();
});
afterAll(() => server.close());

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop(100)));
});

/** A real MP3 (30 s tone, about 240 KB), so the decode step after the download has work to do. */
const audio = fs.readFileSync(makeAudio(tempDir('earshot-audio-'), 'tone.mp3', 30));

function feed(name: string, enclosure: string, extra = ''): string {
  return `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>${name}</title>
    <item><guid>${name}-1</guid><title>One</title><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
    <enclosure url="${enclosure}" type="audio/mpeg" length="${audio.length}"/>${extra}</item></channel></rss>`;
}

async function setup(name: string, dataDir = tempDir()) {
  const db: Db = openDatabase(databasePath(dataDir));
  const subs = new Subscriptions(db, systemClock);
  const { feed: f } = await subs.subscribe(server.url(`/${name}.xml`), 'all');
  await installEmptyWhisper(dataDir, db);
  const engine = pipelineEngine(db, dataDir);
  engines.push(engine);
  const progress: { step: string; fraction: number; detail?: unknown }[] = [];
  engine.on('progress', (p) => progress.push(p));
  const ids = startEpisodes(db, engine.queue);
  engine.start();
  await engine.untilIdle();
  const episode = subs.episodes({ feedId: f.id })[0]!;
  const artifact = db
    .prepare(`SELECT path FROM artifacts WHERE episode_id = ? AND kind = 'audio'`)
    .get(episode.id) as { path: string } | undefined;
  const wf = db.prepare('SELECT status, dead_reason FROM workflows WHERE id = ?').get(ids[0]) as {
    status: string;
    dead_reason: string | null;
  };
  return { dataDir, db, episode, artifact, wf, progress, wfId: ids[0]! };
}

describe('episode downloads on the io lane', () => {
  it('streams the enclosure into media/<key>.mp3, records the artifact, reports progress', async () => {
    server.route('/dl-ok.xml', { body: feed('ok', '/media/ok.mp3') });
    server.route('/media/ok.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' } });
    const { episode, artifact, wf, progress, dataDir } = await setup('dl-ok');
    expect(wf.status).toBe('completed');
    expect(artifact!.path).toBe(path.join(dataDir, 'media', `${episode.key}.mp3`));
    expect(fs.readFileSync(artifact!.path).equals(audio)).toBe(true);
    expect(episode.status).toBe('transcribed');
    expect(progress.filter((p) => p.step === 'download').at(-1)).toMatchObject({
      fraction: 1,
      detail: { bytes: audio.length },
    });
    expect(fs.readdirSync(path.join(dataDir, 'media'))).toEqual([`${episode.key}.mp3`]); // no part files left
  });

  it('resumes with a Range request after the connection breaks mid-body', async () => {
    server.route('/dl-resume.xml', { body: feed('resume', '/media/resume.mp3') });
    const dataDir = tempDir();
    // The connection breaks once part of the body is on disk (what breaks earlier leaves nothing
    // to resume, and the download rightly starts over).
    const partOnDisk = () =>
      vi.waitFor(
        () => {
          const media = path.join(dataDir, 'media');
          const part = fs.readdirSync(media).find((f) => f.endsWith('.part'));
          if (!part || fs.statSync(path.join(media, part)).size === 0) throw new Error('nothing yet');
        },
        { timeout: 30_000, interval: 20 },
      );
    server.route('/media/resume.mp3', {
      etag: '"resume-v1"',
      body: audio,
      headers: { 'content-type': 'audio/mpeg' },
      resetAfter: 100_000,
      resetWhen: partOnDisk,
      faultTimes: 1,
      ranges: true,
    });
    const { artifact, wf } = await setup('dl-resume', dataDir);
    expect(wf.status).toBe('completed');
    expect(fs.readFileSync(artifact!.path).equals(audio)).toBe(true);
    const hits = server.hits('/media/resume.mp3');
    expect(hits).toHaveLength(2);
    expect(hits[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(hits[1]!['if-range']).toBe('"resume-v1"');
    expect(Number(/\d+/.exec(hits[1]!.range!)![0])).toBeGreaterThan(0);
  });

  it('starts over instead of resuming when the server gives no validator (no splicing of two files)', async () => {
    server.route('/dl-noval.xml', { body: feed('noval', '/media/noval.mp3') });
    server.route('/media/noval.mp3', {
      body: audio,
      headers: { 'content-type': 'audio/mpeg' },
      resetAfter: 100_000,
      faultTimes: 1,
      ranges: true,
    });
    const { artifact, wf } = await setup('dl-noval');
    expect(wf.status).toBe('completed');
    expect(fs.readFileSync(artifact!.path).equals(audio)).toBe(true);
    expect(server.hits('/media/noval.mp3').map((h) => h.range ?? null)).toEqual([null, null]);
  });

  it('checks free disk space before downloading and says how much is needed', async () => {
    // A 100 TB episode by the feed's own account, sent without a Content-Length.
    server.route('/dl-huge.xml', {
      body: feed('huge', '/media/huge.mp3').replace(`length="${audio.length}"`, 'length="100000000000000"'),
    });
    server.route('/media/huge.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' }, dripMs: 5 });
    const { wf, artifact, dataDir } = await setup('dl-huge');
    expect(wf.status).toBe('dead');
    expect(wf.dead_reason).toMatch(
      /Not enough free disk space for this episode \(it needs about 9536\d{4} MB, \d+ MB are free\)\. Free some space; Earshot will try again\./,
    );
    expect(artifact).toBeUndefined();
    expect(fs.readdirSync(path.join(dataDir, 'media')).filter((f) => !f.endsWith('.json'))).toEqual([]);
  });

  it('honours Retry-After from a busy server', async () => {
    server.route('/dl-busy.xml', { body: feed('busy', '/media/busy.mp3') });
    server.route('/media/busy.mp3', {
      body: audio,
      status: 429,
      headers: { 'content-type': 'audio/mpeg', 'retry-after': '1' },
      faultTimes: 1,
    });
    const t = Date.now();
    const { wf, db } = await setup('dl-busy');
    expect(wf.status).toBe('completed');
    expect(Date.now() - t).toBeGreaterThanOrEqual(1000); // waited as told, not our own 50 ms backoff
    expect(db.prepare(`SELECT attempts FROM jobs`).get()).toEqual({ attempts: 1 });
  });

  it('falls back to an alternate enclosure when the main one is gone', async () => {
    server.route('/dl-alt.xml', {
      body: feed(
        'alt',
        '/media/gone.mp3',
        '<podcast:alternateEnclosure type="audio/ogg"><podcast:source uri="/media/alt.ogg"/></podcast:alternateEnclosure>',
      ),
    });
    server.route('/media/alt.ogg', { body: audio, headers: { 'content-type': 'audio/ogg' } });
    const { artifact, wf, episode } = await setup('dl-alt');
    expect(wf.status).toBe('completed');
    expect(artifact!.path.endsWith(`${episode.key}.ogg`)).toBe(true);
  });

  it('an episode whose audio is gone fails with the reason, and shows as failed', async () => {
    server.route('/dl-404.xml', { body: feed('gone', '/media/never-there.mp3') });
    const { wf, episode, dataDir, wfId } = await setup('dl-404');
    expect(wf).toEqual({
      status: 'dead',
      dead_reason: expect.stringMatching(
        /retrying will not help: 127\.0\.0\.1:\d+ says this episode audio does not exist \(404\); the publisher may have moved or removed it\./,
      ),
    });
    expect(episode.status).toBe('failed');

    // The publisher puts the file back; asking for the episode again runs it again.
    server.route('/media/never-there.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' } });
    const app = validated(new App(await openApp(dataDir, { registryModule: defaultWorkflowsModule })));
    expect(await app.process([episode.id])).toEqual([wfId]);
    const engine = engines[engines.length - 1]!;
    engine.tick();
    await engine.untilIdle();
    expect((await app.episodes({ feedId: episode.feedId! }))[0]!.status).toBe('transcribed');
  });

  it('refuses a web page instead of audio, permanently and with the reason', async () => {
    server.route('/dl-html.xml', { body: feed('html', '/media/page.mp3') });
    server.route('/media/page.mp3', {
      body: '<html>paywall</html>',
      headers: { 'content-type': 'text/html' },
    });
    const { wf, artifact } = await setup('dl-html');
    expect(wf).toEqual({
      status: 'dead',
      dead_reason: expect.stringMatching(
        /retrying will not help: The episode's audio address \(127\.0\.0\.1:\d+\) returned text\/html instead of audio\./,
      ),
    });
    expect(artifact).toBeUndefined();
  });

  it('decodes the download to 16 kHz mono PCM for transcription, and drops it once transcribed', async () => {
    server.route('/dl-pcm.xml', { body: feed('pcm', '/media/pcm.mp3') });
    server.route('/media/pcm.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' } });
    const { wf, db, episode, wfId } = await setup('dl-pcm');
    expect(wf.status).toBe('completed');
    const output = (step: string) =>
      JSON.parse(
        (
          db.prepare('SELECT output FROM steps WHERE workflow_id = ? AND name = ?').get(wfId, step) as {
            output: string;
          }
        ).output,
      ) as { path: string; samples: number; audioMs: number };
    const decoded = output('decode');
    // 16 kHz mono s16le: the sample count is the duration.
    expect(decoded.samples / 16000).toBeGreaterThan(29.5);
    expect(decoded.samples / 16000).toBeLessThan(30.5);
    expect(output('transcribe').audioMs).toBe(Math.round((decoded.samples / 16000) * 1000));
    expect(fs.existsSync(decoded.path)).toBe(false);
    expect(
      db.prepare(`SELECT count(*) AS n FROM artifacts WHERE episode_id = ? AND kind = 'pcm'`).get(episode.id),
    ).toEqual({ n: 0 });
    expect(episode.status).toBe('transcribed');
  });

  it('names files after the episode key, never after feed text', async () => {
    server.route('/dl-evil.xml', { body: feed('evil', '/media/..%2F..%2F..%2Fevil.sh') });
    server.route('/media/..%2F..%2F..%2Fevil.sh', {
      body: audio,
      headers: { 'content-type': 'application/octet-stream' },
    });
    const { artifact, episode, dataDir } = await setup('dl-evil');
    expect(artifact!.path).toBe(path.join(dataDir, 'media', `${episode.key}.sh`));
    expect(path.dirname(artifact!.path)).toBe(path.join(dataDir, 'media'));
  });

  it('stores the publisher transcript (best format offered) and chapters; a broken one is reported, not fatal', async () => {
    const read = (f: string) => fs.readFileSync(path.join(repoRoot, 'test/fixtures/transcripts', f));
    server.route('/dl-tx.xml', {
      body: feed(
        'tx',
        '/media/tx.mp3',
        `<podcast:transcript url="/tx/ep.srt" type="application/srt"/>
         <podcast:transcript url="/tx/ep.vtt" type="text/vtt" language="en"/>
         <podcast:chapters url="/tx/chapters.json" type="application/json+chapters"/>`,
      ),
    });
    server.route('/media/tx.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' } });
    server.route('/tx/ep.vtt', { body: read('ep3.vtt'), headers: { 'content-type': 'text/vtt' } });
    server.route('/tx/ep.srt', { body: read('ep3.srt'), headers: { 'content-type': 'application/srt' } });
    server.route('/tx/chapters.json', {
      body: read('chapters.json'),
      headers: { 'content-type': 'application/json' },
    });
    const { wf, db, episode, wfId } = await setup('dl-tx');
    expect(wf.status).toBe('completed');
    // Transcribed by its publisher: lists say so (not "Downloaded", as if work were left).
    expect(episode.status).toBe('transcribed');
    const artifacts = db
      .prepare(
        `SELECT kind, path, model_id FROM artifacts WHERE episode_id = ? AND kind IN ('audio', 'chapters', 'transcript') ORDER BY kind`,
      )
      .all(episode.id) as {
      kind: string;
      path: string;
      model_id: string | null;
    }[];
    expect(artifacts.map((a) => [a.kind, a.model_id])).toEqual([
      ['audio', null],
      ['chapters', 'publisher'],
      // The publisher's transcript makes Whisper unnecessary: the audio is not decoded.
      ['transcript', 'publisher'],
    ]);
    const skipped = db
      .prepare(
        `SELECT name, output FROM steps WHERE workflow_id = ? AND name IN ('decode', 'transcribe') ORDER BY name`,
      )
      .all(wfId) as { name: string; output: string }[];
    expect(skipped.map((r) => [r.name, (JSON.parse(r.output) as { skipped: string }).skipped])).toEqual([
      ['decode', "the publisher's transcript is used"],
      ['transcribe', expect.stringContaining("the publisher's transcript is used")],
    ]);
    const transcript = JSON.parse(fs.readFileSync(artifacts[2]!.path, 'utf8'));
    expect(transcript).toMatchObject({ source: 'publisher', format: 'vtt', language: 'en', timed: true });
    expect(transcript.segments[1]).toEqual({
      startMs: 4200,
      endMs: 9750,
      speaker: 'Ilya Brandt',
      text: 'Thanks, Mara. Most of my career has been a series of useful failures.',
    });
    expect(server.hits('/tx/ep.srt')).toHaveLength(0); // VTT was preferred
    expect(JSON.parse(fs.readFileSync(artifacts[1]!.path, 'utf8')).chapters).toHaveLength(2);

    server.route('/dl-badtx.xml', {
      body: feed('badtx', '/media/tx.mp3', '<podcast:transcript url="/tx/missing.vtt" type="text/vtt"/>'),
    });
    const bad = await setup('dl-badtx');
    expect(bad.wf.status).toBe('completed');
    const step = bad.db.prepare(`SELECT output FROM steps WHERE name = 'publisher-transcript'`).get() as {
      output: string;
    };
    expect(JSON.parse(step.output)).toMatchObject({
      transcript: null,
      problems: [expect.stringMatching(/missing\.vtt: .*does not exist \(404\)/)],
    });
  });
});
