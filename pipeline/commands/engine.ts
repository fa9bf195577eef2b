import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { LANES, isLane, type Lane } from '../engine/workflow.ts';
import type { LaneView } from '../api/contract.ts';
import { resolveDataDir, uploadsDir } from '../store/paths.ts';
import { serveApi } from '../api/http-server.ts';
import { fileURLToPath } from 'node:url';
import { startService } from '../api/service.ts';
import { ApiInputError } from '../api/schemas.ts';
import { count, episodeLabel, positiveInt, print, table, when, withApp } from './io.ts';
import { RunReport } from './run-report.ts';
import type { ModelKind } from '../api/contract.ts';
import { App, openApp } from '../api/app.ts';
import { terminalSafe } from '../ingest/clean-text.ts';

/** A lane's state in words: "active", "paused" (by the user), "paused: on battery" (held), or both. */
export function laneState(l: LaneView): string {
  if (l.paused && l.holds.length) return `paused (by you); ${l.holds.join('; ')}`;
  if (l.paused) return 'paused';
  if (l.holds.length) return `paused: ${l.holds.join('; ')}`;
  return 'active';
}

function parseLanes(value: string): Partial<Record<Lane, number>> {
  const out: Partial<Record<Lane, number>> = {};
  for (const part of value.split(',').filter(Boolean)) {
    const [name = '', n] = part.split('=');
    const count = Number(n);
    if (!isLane(name) || !Number.isInteger(count) || count < 0) {
      throw new InvalidArgumentError(
        `"${part}" should look like gpu=1 (lanes: ${LANES.join(', ')}; a whole number ≥ 0).`,
      );
    }
    out[name] = count;
  }
  return out;
}

export function registerEngineCommands(program: Command): void {
  program
    .command('status')
    .description('lanes, queue depths, workers and dead letters')
    .action(async (_opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const s = await app.status();
        print(cmd, s, () => {
          const lanes = table([
            ['LANE', 'STATE', 'CONCURRENCY', 'QUEUED', 'RETRY LATER', 'RUNNING'],
            ...s.lanes.map((l) => [
              l.lane,
              laneState(l),
              String(l.concurrency),
              String(l.queued),
              String(l.delayed),
              String(l.running),
            ]),
          ]);
          const workers = s.workers.length
            ? table([
                ['WORKER', 'PID', 'STATE', 'JOB', 'RESTARTS'],
                ...s.workers.map((w) => [
                  w.workerId,
                  String(w.pid ?? '-'),
                  w.state,
                  String(w.jobId ?? '-'),
                  String(w.restarts),
                ]),
              ])
            : 'No engine is running (start one with `earshot run`).';
          const wf = Object.entries(s.workflows)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ');
          const waiting = s.waiting.map(
            (w) =>
              `Waiting: ${count(w.episodes, 'episode')} for ${w.what} (not failed: they go on once there is one).`,
          );
          const dead = s.deadLetters.length
            ? s.deadLetters
                .map(
                  (d) =>
                    `  ${d.episode ? episodeLabel(d.episode) : `${d.kind} ${d.subject}`} (workflow ${d.workflowId})\n    ${d.reason}`,
                )
                .join('\n')
            : '  none';
          return [
            `Library: ${s.dataDir}\n\n${lanes}\n\n${workers}\n\nWorkflows: ${wf}`,
            ...waiting,
            `Dead letters (\`earshot failures\` groups them by cause):\n${dead}`,
          ].join('\n');
        });
      });
    });

  program
    .command('jobs')
    .description('queued, running and failed jobs (most urgent first)')
    .option('--state <state>', 'only jobs in this state: queued, running, done, failed, cancelled')
    .option('--lane <lane>', 'only jobs on this lane: gpu, cpu, io')
    .option('--limit <n>', 'at most this many (default 50)', (v) => positiveInt(v))
    .action(async (opts: { state?: string; lane?: string; limit?: number }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const query = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
        const jobs = await app.jobs(query as never);
        print(cmd, jobs, () =>
          jobs.length === 0
            ? 'No jobs.'
            : table([
                [
                  'JOB',
                  'EPISODE',
                  'WORKFLOW',
                  'STEP',
                  'LANE',
                  'STATE',
                  'PRIO',
                  'ATTEMPTS',
                  'RECOVERIES',
                  'ERROR',
                ],
                ...jobs.map((j) => [
                  String(j.id),
                  j.episode ? episodeLabel(j.episode, 48) : '-',
                  j.workflowId,
                  j.step,
                  j.lane,
                  j.state,
                  String(j.priority),
                  String(j.attempts),
                  String(j.recoveries),
                  j.lastError ?? '',
                ]),
              ]),
        );
      });
    });

  const workflow = program.command('workflow').description('inspect workflows');
  workflow
    .command('show')
    .argument('[id]', 'workflow id')
    .option('--episode <id>', "an episode's latest workflow instead (see `earshot episodes`)", (v) =>
      positiveInt(v, 'an episode id (see `earshot episodes`)'),
    )
    .description('steps with their lane, state, attempts, timings and errors')
    .action(async (id: string | undefined, opts: { episode?: number }, cmd: Command) => {
      if ((id === undefined) === (opts.episode === undefined))
        throw new ApiInputError('Name a workflow id, or an episode with --episode ID (not both).');
      await withApp(cmd, async (app) => {
        const w =
          opts.episode !== undefined ? await app.episodeWorkflow(opts.episode) : await app.workflow(id!);
        print(cmd, w, () => {
          const head = [
            ...(w.episode ? [episodeLabel(w.episode)] : []),
            `${w.id}  ${w.kind}  ${w.subject}`,
            `status: ${w.status}${w.deadReason ? ` — ${w.deadReason}` : ''}${w.waitingFor ? ` for ${w.waitingFor}` : ''}`,
          ].join('\n');
          const steps = table([
            ['STEP', 'LANE', 'STATUS', 'ATTEMPTS', 'RECOVERIES', 'STARTED', 'TOOK', 'ERROR'],
            ...w.steps.map((s) => [
              s.name,
              s.lane,
              s.reusedFrom ? 'reused' : s.status,
              String(s.attempts),
              String(s.recoveries),
              when(s.startedAt),
              s.durationMs === null ? '-' : `${s.durationMs} ms`,
              s.error ?? '',
            ]),
          ]);
          return `${head}\n\n${steps}`;
        });
      });
    });

  program
    .command('retry')
    .argument('<id>', 'workflow id')
    .option('--from-step <step>', 'run this step and every later one again')
    .description('bring back a dead-lettered or cancelled workflow')
    .action(async (id: string, opts: { fromStep?: string }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const w = await app.retry(id, opts.fromStep);
        print(
          cmd,
          w,
          () => `${w.id} is ${w.status} again${opts.fromStep ? ` from step ${opts.fromStep}` : ''}.`,
        );
      });
    });

  program
    .command('cancel')
    .argument('<id>', 'workflow id')
    .description('cancel a workflow; a running step is stopped')
    .action(async (id: string, _opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const w = await app.cancel(id);
        print(cmd, w, () => `${w.id} is cancelled.`);
      });
    });

  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    program
      .command(name)
      .argument('<lane>', 'gpu, cpu or io')
      .description(
        paused ? 'stop starting new jobs on a lane (running ones finish)' : 'start jobs on a lane again',
      )
      .action(async (lane: string, _opts, cmd: Command) => {
        await withApp(cmd, async (app) => {
          const v = paused ? await app.pauseLane(lane as Lane) : await app.resumeLane(lane as Lane);
          print(cmd, v, () =>
            v.paused
              ? `The ${v.lane} lane is paused.`
              : v.holds.length
                ? `The ${v.lane} lane is resumed, but waits while: ${v.holds.join('; ')}.`
                : `The ${v.lane} lane is running.`,
          );
        });
      });
  }

  program
    .command('doctor')
    .description(
      'this machine as Earshot sees it: CPU, memory, GPUs (Metal, CUDA), what each lane uses, the audio decoder',
    )
    .action(async (_opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const d = await app.doctor();
        const gb = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GB`;
        print(cmd, d, () =>
          [
            `${d.hardware.platform}/${d.hardware.arch}, ${d.hardware.cpu.cores} cores (${d.hardware.cpu.model}), ${gb(d.hardware.memory.totalBytes)} memory`,
            d.hardware.gpus.length
              ? d.hardware.gpus
                  .map(
                    (g) =>
                      `GPU ${g.backend}:${g.index} ${g.name}${g.vramBytes ? `, ${gb(g.vramBytes)}` : ''}`,
                  )
                  .join('\n')
              : 'No GPU that Whisper or the LLM can use was found: both run on the CPU.',
            ...(['gpu', 'cpu', 'io'] as const).map(
              (l) => `${l} lane: ${d.lanes[l].uses} (runs ${d.lanes[l].configured} at once)`,
            ),
            d.decoder.ok
              ? `decoder: ${d.decoder.name} ${d.decoder.version} (${d.decoder.source})`
              : `decoder: missing — ${d.decoder.error}`,
            `library: ${d.dataDir}`,
            `models: ${d.modelsDir}`,
            ...d.hardware.notes,
          ].join('\n'),
        );
      });
    });

  program
    .command('run')
    .description('run the engine until interrupted (Ctrl-C finishes running steps first)')
    .option('--until-idle', 'exit 0 once nothing is left to run')
    .option('--lanes <spec>', 'workers per lane, e.g. gpu=1,cpu=2,io=4', parseLanes)
    .option('--grace <ms>', 'on shutdown, how long running steps may take to finish (default 10000)', (v) =>
      positiveInt(v),
    )
    .action(
      async (
        opts: { untilIdle?: boolean; lanes?: Partial<Record<Lane, number>>; grace?: number },
        cmd: Command,
      ) => {
        const { dataDir: dirOpt, json } = cmd.optsWithGlobals<{ dataDir?: string; json?: boolean }>();
        const dataDir = resolveDataDir(dirOpt);
        const { service, engine, ingest, shutdown } = await startServiceProcess(dataDir, opts);
        const report = new RunReport({
          db: service.app.ctx.db,
          dataDir,
          lanes: engine.concurrency,
          write: (t) => process.stdout.write(t),
          tty: process.stdout.isTTY === true,
          columns: process.stdout.columns,
          json: json === true,
          untilIdle: opts.untilIdle === true,
        });
        report.attach(engine);
        service.app.events.on('onDigestReady', (e) =>
          json
            ? undefined
            : process.stdout.write(
                `Your digest is ready: ${e.headline} (\`earshot digest --id ${e.digestId}\`).\n`,
              ),
        );
        if (opts.untilIdle) {
          const stopped = new Promise<void>((r) => process.once('SIGTERM', r));
          // Two rounds: what the first makes due (the digest of a week whose episodes it
          // processed) runs in the second.
          for (let round = 0; round < 2; round++) {
            await ingest?.tick();
            if (round === 0) report.start();
            engine.tick();
            await Promise.race([engine.untilIdle(), stopped]);
          }
          await shutdown();
        } else {
          report.start();
          ingest?.start();
          await untilSignal();
          await shutdown();
        }
        await summarize(dataDir, report);
      },
    );

  program
    .command('serve')
    .description(
      'the UI in your browser at the address it prints (http://127.0.0.1:PORT/?token=…), with the engine running (build the UI first: npm run build)',
    )
    .option('--port <n>', 'port on 127.0.0.1 (default 4747; 0 picks a free one)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535)
        throw new InvalidArgumentError(`"${v}" is not a port number.`);
      return n;
    })
    .option('--no-engine', 'serve the API and UI only; process nothing')
    .option(
      '--lanes <spec>',
      "workers per lane, e.g. gpu=1,cpu=2,io=4 (default: the machine's plan)",
      parseLanes,
    )
    .action(
      async (
        opts: { port?: number; engine: boolean; lanes?: Partial<Record<Lane, number>> },
        cmd: Command,
      ) => {
        const { dataDir: dirOpt } = cmd.optsWithGlobals<{ dataDir?: string }>();
        const staticDir = fileURLToPath(new URL('../../out/renderer', import.meta.url));
        let server!: Awaited<ReturnType<typeof serveApi>>;
        const port = opts.port ?? 4747;
        const dataDir = resolveDataDir(dirOpt);
        // Files dropped on the page are uploaded (POST /upload) into the library's uploads folder.
        const maxMb = Number(process.env.EARSHOT_UPLOAD_MAX_MB);
        const uploads = {
          dir: uploadsDir(dataDir),
          ...(Number.isFinite(maxMb) && maxMb > 0 ? { maxBytes: Math.round(maxMb * 1024 * 1024) } : {}),
        };
        // The port first: taken, and nothing is started (no engine left running without a server).
        const host = await startServiceProcess(
          dataDir,
          { engine: opts.engine, ...(opts.lanes ? { lanes: opts.lanes } : {}) },
          async (app) => {
            try {
              server = await serveApi({ api: app, events: app.events, staticDir, port, uploads });
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
                throw new ApiInputError(
                  `Port ${port} on 127.0.0.1 is taken by another program (another \`earshot serve\`?). Choose another with --port N, or --port 0 for any free one.`,
                );
              throw err;
            }
          },
        );
        if (opts.engine) host.ingest?.start();
        // The token is new at each start and lives only in this process; the address carries it.
        process.stdout.write(`Earshot is at ${server.openUrl} (Ctrl-C to stop)\n`);
        await untilSignal();
        await server.close();
        await host.shutdown();
      },
    );
}

/** The closing summary, read from the library after the engine stopped (and what to do for what waits). */
async function summarize(dataDir: string, report: RunReport): Promise<void> {
  const ctx = await openApp(dataDir);
  try {
    const app = new App(ctx);
    const { waiting } = await app.status();
    const advice = new Map<string, string>();
    for (const w of waiting) {
      const kind = /^model:(whisper|llm|embedding)$/.exec(w.resource)?.[1] as ModelKind | undefined;
      if (kind) advice.set(w.resource, await app.modelStore.nextStepHere(kind));
    }
    report.summary(
      waiting.map(({ resource, what, episodes }) => ({ resource, what, episodes })),
      advice,
    );
  } finally {
    ctx.db.close();
  }
}

function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/**
 * The library service as a long-running process (run, serve): the same service the desktop app
 * runs in its utility process, with a clean stop on SIGINT/SIGTERM.
 */
async function startServiceProcess(
  dataDir: string,
  opts: { lanes?: Partial<Record<Lane, number>>; grace?: number; engine?: boolean },
  /** What must work before any worker starts (serve: the port); when it throws, nothing is left running. */
  first?: (app: App) => Promise<void>,
) {
  const leaseMs = process.env.EARSHOT_LEASE_MS ? Number(process.env.EARSHOT_LEASE_MS) : undefined;
  const service = await startService({
    dataDir,
    lanes: opts.lanes,
    leaseMs,
    engine: opts.engine ?? true,
    // The schedule starts when the command says so (`run --until-idle` does one round instead).
    ingest: false,
    ...(first ? { beforeEngine: first } : {}),
    onError: (err) => process.stderr.write(`earshot: ${terminalSafe(err.message)}\n`),
  });
  const shutdown = () => service.shutdown(opts.grace ?? 10_000);
  // A second signal while stopping is not an abort: the grace period still applies.
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  return { service, engine: service.engine, ingest: service.ingest, shutdown };
}
