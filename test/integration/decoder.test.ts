/**
 * The audio decoder: FFmpeg's libraries (node-av) in a process of their own, with a time limit.
 * A file the decoder cannot read, a decoder that crashes, one that runs too long: each fails
 * that file (that episode) only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../pipeline/engine/engine.ts';
import { openDatabase, databasePath } from '../../pipeline/store/index.ts';
import { Subscriptions } from '../../pipeline/ingest/subscriptions.ts';
import { startEpisodes } from '../../pipeline/ingest/episodes.ts';
import { systemClock } from '../../pipeline/engine/clock.ts';
import { decodeToPcm, decoderInfo } from '../../pipeline/ingest/ffmpeg.ts';
import { IngestError } from '../../pipeline/ingest/errors.ts';
import { tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { encoderPath } from '../helpers/encoder.ts';
import { pipelineEngine } from '../helpers/engine.ts';
import { installEmptyWhisper } from '../helpers/whisper-install.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';

const dir = tempDir('earshot-decoder-');
let mp3: string;
let m4a: string;
let server: FeedServer;
beforeAll(async () => {
  mp3 = makeAudio(dir, 'talk.mp3', 3);
  m4a = makeAudio(dir, 'talk.m4a', 3);
  server = await startFeedServer();
});
afterAll(() => server.close());

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop(100)));
});

describe('the decoder', () => {
  it('is FFmpeg 6 or newer from npm, and decodes mp3 and AAC to 16 kHz mono PCM as ffmpeg does', async () => {
    const info = await decoderInfo({});
    expect(info.major).toBeGreaterThanOrEqual(6);
    expect(info.source).toMatch(/^npm package @seydx\/node-av-/);
    for (const file of [mp3, m4a]) {
      const ours = await decodeToPcm(file, path.join(dir, `${path.basename(file)}.pcm`));
      const theirs = await decodeToPcm(file, path.join(dir, `${path.basename(file)}.ref.pcm`), {
        ffmpeg: encoderPath(),
      });
      expect(ours.durationMs).toBeGreaterThan(2900);
      expect(ours.durationMs).toBeLessThan(3200);
      // The same audio, within one codec frame of priming samples.
      expect(Math.abs(ours.samples - theirs.samples)).toBeLessThanOrEqual(2048);
      expect(fs.existsSync(`${ours.path}.part`)).toBe(false);
    }
    // The explicit fallback names itself.
    expect(await decoderInfo({ EARSHOT_FFMPEG: encoderPath() })).toMatchObject({
      name: 'ffmpeg',
      source: 'EARSHOT_FFMPEG',
    });
  });

  it('a file it cannot read is a clear error, and no partial output is left', async () => {
    const bad = path.join(dir, 'not-audio.mp3');
    fs.writeFileSync(bad, 'hello, this is not audio\n'.repeat(50));
    const target = path.join(dir, 'bad.pcm');
    const err = (await decodeToPcm(bad, target).catch((e: unknown) => e)) as IngestError;
    expect(err).toBeInstanceOf(IngestError);
    expect(err.code).toBe('DECODE_FAILED');
    expect(err.message).toMatch(/^This file could not be decoded as audio \(.*Invalid data found/);
    expect(fs.existsSync(`${target}.part`)).toBe(false);
    expect(fs.existsSync(target)).toBe(false);
  });

  it('a decoder that crashes is reported as a crash of this file only', async () => {
    const target = path.join(dir, 'crashed.pcm');
    const err = (await decodeToPcm(mp3, target, {
      // What a decoder bug looks like from outside: the process dies of a signal.
      onSpawn: (child) => setImmediate(() => child.kill('SIGSEGV')),
    }).catch((e: unknown) => e)) as IngestError;
    expect(err.code).toBe('DECODE_CRASHED');
    expect(err.message).toMatch(
      /The decoder crashed on this file \(SIGSEGV\); only this episode is affected/,
    );
    expect(fs.existsSync(`${target}.part`)).toBe(false);
  });

  it('a decode that runs past its time limit is stopped', async () => {
    const target = path.join(dir, 'slow.pcm');
    const started = Date.now();
    const err = (await decodeToPcm(mp3, target, { timeoutMs: 50 }).catch((e: unknown) => e)) as IngestError;
    expect(err.code).toBe('DECODE_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(fs.existsSync(`${target}.part`)).toBe(false);
  });

  it('in the pipeline, a broken file fails its episode only; the next one is transcribed', async () => {
    const good = fs.readFileSync(mp3);
    server.route('/two.xml', {
      body: `<?xml version="1.0"?><rss version="2.0"><channel><title>Two</title>
        <item><guid>two-1</guid><title>Broken</title><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate>
          <enclosure url="/broken.mp3" type="audio/mpeg" length="1250"/></item>
        <item><guid>two-2</guid><title>Fine</title><pubDate>Mon, 09 Mar 2026 10:00:00 GMT</pubDate>
          <enclosure url="/fine.mp3" type="audio/mpeg" length="${good.length}"/></item>
      </channel></rss>`,
    });
    server.route('/broken.mp3', {
      body: 'hello, this is not audio\n'.repeat(50),
      headers: { 'content-type': 'audio/mpeg' },
    });
    server.route('/fine.mp3', { body: good, headers: { 'content-type': 'audio/mpeg' } });
    const dataDir = tempDir();
    const db = openDatabase(databasePath(dataDir));
    const subs = new Subscriptions(db, systemClock);
    await subs.subscribe(server.url('/two.xml'), 'all');
    await installEmptyWhisper(dataDir, db);
    const engine = pipelineEngine(db, dataDir);
    engines.push(engine);
    startEpisodes(db, engine.queue);
    engine.start();
    await engine.untilIdle();
    const byTitle = Object.fromEntries(
      (
        db
          .prepare(
            `SELECT e.title, w.status, w.dead_reason FROM episodes e JOIN workflows w ON w.subject = e.key ORDER BY e.id`,
          )
          .all() as { title: string; status: string; dead_reason: string | null }[]
      ).map((r) => [r.title, [r.status, r.dead_reason]]),
    );
    expect(byTitle.Fine).toEqual(['completed', null]);
    expect(byTitle.Broken![0]).toBe('dead');
    expect(byTitle.Broken![1]).toMatch(
      /Step "decode" failed and retrying will not help: This file could not be decoded as audio/,
    );
    // One try: a file the decoder cannot read does not become readable.
    expect(db.prepare(`SELECT attempts FROM jobs WHERE step = 'decode' AND state = 'failed'`).get()).toEqual({
      attempts: 1,
    });
  }, 120_000);
});
