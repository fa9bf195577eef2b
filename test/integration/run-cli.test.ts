import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { runCli } from '../helpers/cli.ts';
import { startFeedServer, type FeedServer } from '../helpers/feed-server.ts';

/**
 * `earshot run` talks: a start line, progress, a line per episode, a closing summary that says
 * what waits and what to do about it on this machine; `--json` makes that JSON lines.
 */
let server: FeedServer;
let closedPort: number;
let audio: string;
beforeAll(async () => {
  server = await startFeedServer();
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  audio = makeAudio(tempDir('earshot-run-'), 'chat.mp3', 4, { title: 'A chat' });
});
afterAll(() => server.close());

/** A catalog with one Whisper model whose host is `base` (a server here, or a closed port). */
function catalog(base: string): string {
  const file = path.join(tempDir('earshot-catalog-'), 'catalog.json');
  fs.writeFileSync(
    file,
    JSON.stringify([
      {
        id: 'whisper-base.en',
        kind: 'whisper',
        file: 'ggml-base.en.bin',
        url: `${base}/ggml-base.en.bin`,
        bytes: 1000,
        sha256: null,
      },
    ]),
  );
  return file;
}

describe('earshot run reports as it goes', () => {
  it('--json: JSON lines from start to summary; an episode without a model waits, and the summary says what to do', async () => {
    const dir = tempDir();
    const env = { EARSHOT_DATA_DIR: dir, EARSHOT_MODEL_CATALOG: catalog(server.url('')) };
    expect((await runCli(['import', audio], env)).code).toBe(0);
    const r = await runCli(['--json', 'run', '--until-idle'], env);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });
    expect(events[0]).toMatchObject({ event: 'start', dataDir: dir, episodes: 1 });
    expect(events.filter((e) => e.event === 'step').map((e) => e.step)).toEqual([
      'download',
      'publisher-transcript',
      'decode',
    ]);
    expect(events.find((e) => e.event === 'step')).toMatchObject({
      episode: { id: 1, title: 'A chat', show: null },
    });
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'episode-waiting', waitingFor: 'a Whisper model' }),
    );
    expect(events.at(-1)).toEqual({
      event: 'summary',
      done: 0,
      failed: 0,
      waiting: [{ resource: 'model:whisper', what: 'a Whisper model', episodes: 1 }],
    });

    // In words: the model host answers here, so the advice is to install the model.
    const human = await runCli(['run', '--until-idle'], env);
    expect(human.stdout).toMatch(/^Earshot is working on .*: nothing to process yet/);
    expect(human.stdout).toContain(
      '0 episodes done, 1 waiting for a Whisper model.\nWaiting for a Whisper model: install one with `earshot models install whisper-base.en`; they go on by themselves then.\n',
    );
    // A host that does not answer: fetch the file elsewhere and import it.
    const offline = await runCli(['run', '--until-idle'], {
      ...env,
      EARSHOT_MODEL_CATALOG: catalog(`http://127.0.0.1:${closedPort}`),
    });
    expect(offline.stdout).toContain(
      `Waiting for a Whisper model: this machine cannot reach 127.0.0.1:${closedPort}, so download http://127.0.0.1:${closedPort}/ggml-base.en.bin on another machine and import a file you have with \`earshot models import FILE\`; they go on by themselves then.`,
    );
  });
});
