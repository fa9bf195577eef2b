import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { API_EVENTS, API_METHODS, type Api } from '../../pipeline/api/contract.ts';
import { argSchemas, eventSchemas } from '../../pipeline/api/schemas.ts';
import { ApiEventBus, dispatch, validated } from '../../pipeline/api/dispatch.ts';
import { serveApi } from '../../pipeline/api/http-server.ts';
import { forwardEngineEvents } from '../../pipeline/api/engine-host.ts';

/** An Api whose methods record the arguments they were called with. */
function recordingApi() {
  const calls: [string, unknown[]][] = [];
  const api = new Proxy(
    {},
    {
      get:
        (_t, name) =>
        async (...args: unknown[]) => {
          calls.push([String(name), args]);
          return { called: name };
        },
    },
  ) as unknown as Api;
  return { api, calls };
}

describe('the typed contract', () => {
  it('has one schema per method and per event, no more', () => {
    expect(Object.keys(argSchemas).sort()).toEqual([...API_METHODS].sort());
    expect(Object.keys(eventSchemas).sort()).toEqual([...API_EVENTS].sort());
  });

  it('the dispatcher validates once and hands the implementation the parsed arguments', async () => {
    const { api, calls } = recordingApi();
    await dispatch(api, 'search', ['  compost  ', { limit: 5 }]);
    await dispatch(api, 'retry', ['w-1']);
    await dispatch(api, 'jobs', []);
    // The schema's own output: the query trimmed, trailing optional arguments left out.
    expect(calls).toEqual([
      ['search', ['compost', { limit: 5 }]],
      ['retry', ['w-1']],
      ['jobs', []],
    ]);
    await expect(dispatch(api, 'pauseLane', ['warp'])).rejects.toMatchObject({
      name: 'ApiInputError',
      message: '"warp" is not a lane; the lanes are gpu, cpu and io.',
    });
    await expect(dispatch(api, 'search', ['x', { limit: 5, sort: 'new' }])).rejects.toThrow(
      /Unrecognized key/,
    );
    await expect(dispatch(api, 'nope' as never, [])).rejects.toThrow('There is no API method "nope".');
    expect(calls).toHaveLength(3);
  });

  it('a validated implementation checks API calls and passes everything else through', async () => {
    const seen: unknown[][] = [];
    const real = {
      ctx: { dataDir: '/lib' },
      async episodes(...args: unknown[]) {
        seen.push(args);
        return [];
      },
    };
    const api = validated(real as unknown as Api & { ctx: { dataDir: string } });
    expect(api.ctx.dataDir).toBe('/lib');
    await api.episodes({ limit: 3 });
    await expect(api.episodes({ limit: -1 } as never)).rejects.toMatchObject({ name: 'ApiInputError' });
    expect(seen).toEqual([[{ limit: 3 }]]);
  });
});

describe('events over HTTP', () => {
  it("earshot serve forwards the bus's events to every page on /events, validated", async () => {
    const bus = new ApiEventBus(() => {});
    const server = await serveApi({ api: recordingApi().api, events: bus });
    // serve's token, as a page that opened the printed address holds it (see serve-security.test.ts).
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/events`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    try {
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const got: unknown[] = [];
      const twoMessages = new Promise<void>((resolve) =>
        ws.on('message', (data) => {
          got.push(JSON.parse(String(data)));
          if (got.length === 2) resolve();
        }),
      );
      bus.emit('onLaneChanged', { lane: 'warp' } as never); // dropped: not a lane
      bus.emit('onLaneChanged', {
        lane: 'gpu',
        paused: true,
        holds: ['on battery'],
        concurrency: 1,
        queued: 0,
        delayed: 0,
        running: 0,
      });
      bus.emit('onEpisodeChanged', { episodeId: 7, status: 'transcribed' });
      await twoMessages;
      expect(got).toEqual([
        {
          event: 'onLaneChanged',
          payload: {
            lane: 'gpu',
            paused: true,
            holds: ['on battery'],
            concurrency: 1,
            queued: 0,
            delayed: 0,
            running: 0,
          },
        },
        { event: 'onEpisodeChanged', payload: { episodeId: 7, status: 'transcribed' } },
      ]);
    } finally {
      ws.close();
      await server.close();
    }
    // Closed: the server no longer listens to the bus.
    expect(bus.listenerCount('onLaneChanged')).toBe(0);
  });

  it('answers calls through the dispatcher: a bad argument is a 400 with the schema message', async () => {
    const { api } = recordingApi();
    const server = await serveApi({ api });
    try {
      const call = (name: string, args: unknown[]) =>
        fetch(`${server.url}/api/${name}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
          body: JSON.stringify(args),
        });
      const bad = await call('show', ['seven']);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({
        error: 'An episode id is a number (see `earshot episodes`).',
        name: 'ApiInputError',
      });
      const ok = await call('show', [7]);
      expect(await ok.json()).toEqual({ called: 'show' });
    } finally {
      await server.close();
    }
  });
});

describe('event bus', () => {
  it('a listener that throws is reported and does not stop the others', () => {
    const errors: string[] = [];
    const bus = new ApiEventBus((e) => errors.push(e.message));
    const second = vi.fn();
    bus.on('onEpisodeChanged', () => {
      throw new Error('boom');
    });
    bus.on('onEpisodeChanged', second);
    bus.emit('onEpisodeChanged', { episodeId: 1, status: 'listed' });
    expect(second).toHaveBeenCalledWith({ episodeId: 1, status: 'listed' });
    expect(errors).toEqual(['boom']);
  });
});

describe("the engine's events under the contract's names", () => {
  it('started, progress and finished become onJob*; a committed episode step also onEpisodeChanged', () => {
    const engine = new EventEmitter();
    const bus = new ApiEventBus(() => {});
    const episodes = new Map([['episode-abc', { id: 7, status: 'transcribed' }]]);
    const db = { prepare: () => ({ get: (workflowId: string) => episodes.get(workflowId) }) };
    const stop = forwardEngineEvents(engine as never, bus, db as never);
    const seen: [string, unknown][] = [];
    bus.onAny((event, payload) => seen.push([event, payload]));
    engine.emit('started', {
      jobId: 1,
      workflowId: 'episode-abc',
      step: 'download',
      lane: 'io',
      workerId: 'io-0',
      device: 'cuda:1',
    });
    engine.emit('progress', { jobId: 1, workflowId: 'episode-abc', step: 'download', fraction: 0.5 });
    engine.emit('finished', {
      jobId: 1,
      workflowId: 'episode-abc',
      step: 'download',
      outcome: { kind: 'committed', workflowDone: false },
    });
    engine.emit('finished', {
      jobId: 2,
      workflowId: 'episode-abc',
      step: 'decode',
      outcome: { kind: 'stale' },
    });
    engine.emit('crashed', { workerId: 'io-0', lane: 'io', reason: 'x' });
    expect(seen).toEqual([
      [
        'onJobStarted',
        {
          jobId: 1,
          workflowId: 'episode-abc',
          step: 'download',
          lane: 'io',
          workerId: 'io-0',
          device: 'cuda:1',
          episodeId: 7,
        },
      ],
      [
        'onJobProgress',
        { jobId: 1, workflowId: 'episode-abc', episodeId: 7, step: 'download', fraction: 0.5 },
      ],
      [
        'onJobFinished',
        {
          jobId: 1,
          workflowId: 'episode-abc',
          episodeId: 7,
          step: 'download',
          outcome: { kind: 'committed', workflowDone: false },
        },
      ],
      ['onEpisodeChanged', { episodeId: 7, status: 'transcribed' }],
      [
        'onJobFinished',
        { jobId: 2, workflowId: 'episode-abc', episodeId: 7, step: 'decode', outcome: { kind: 'stale' } },
      ],
    ]);
    stop();
    expect(engine.eventNames()).toEqual([]);
  });

  it('says the status as lists show it (a dead-lettered episode is failed), and no episode for other work', () => {
    const engine = new EventEmitter();
    const bus = new ApiEventBus(() => {});
    const episodes = new Map([['episode-dead', { id: 8, status: 'processing', workflow_status: 'dead' }]]);
    const db = { prepare: () => ({ get: (workflowId: string) => episodes.get(workflowId) }) };
    forwardEngineEvents(engine as never, bus, db as never);
    const seen: [string, unknown][] = [];
    bus.onAny((event, payload) => seen.push([event, payload]));
    engine.emit('finished', {
      jobId: 3,
      workflowId: 'episode-dead',
      step: 'download',
      outcome: { kind: 'dead', reason: 'gone' },
    });
    engine.emit('progress', { jobId: 4, workflowId: 'digest-1', step: 'build', fraction: 0.25 });
    expect(seen).toEqual([
      [
        'onJobFinished',
        {
          jobId: 3,
          workflowId: 'episode-dead',
          episodeId: 8,
          step: 'download',
          outcome: { kind: 'dead', reason: 'gone' },
        },
      ],
      ['onEpisodeChanged', { episodeId: 8, status: 'failed' }],
      ['onJobProgress', { jobId: 4, workflowId: 'digest-1', episodeId: null, step: 'build', fraction: 0.25 }],
    ]);
  });
});
