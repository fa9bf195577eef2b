import path from 'node:path';
import type { Command } from 'commander';
import type { ModelActionView, ModelProgressEvent, ModelView } from '../api/contract.ts';
import { globals, positiveInt, print, table, withApp } from './io.ts';

function size(bytes: number | null): string {
  if (bytes === null) return '?';
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  return `${Math.round(bytes / 1024 ** 2)} MB`;
}

function state(m: ModelView): string {
  if (m.active) return 'active';
  if (m.installed) return 'installed';
  if (m.partialBytes !== null) return `partial (${size(m.partialBytes)})`;
  return '-';
}

function verified(m: ModelView): string {
  if (m.verified === null) return '';
  return m.verified === true ? 'verified' : m.verified === 'size-only' ? 'size only' : 'not verified';
}

/** A one-line progress bar, redrawn in place on a terminal. */
function progressLine(p: ModelProgressEvent): string {
  if (p.total === null) return `${p.id}: ${size(p.bytes)}`;
  const pct = Math.floor((p.bytes / Math.max(1, p.total)) * 100);
  const width = 30;
  const done = Math.round((pct / 100) * width);
  return `${p.id} [${'#'.repeat(done)}${' '.repeat(width - done)}] ${pct}% ${size(p.bytes)} / ${size(p.total)}`;
}

function printAction(cmd: Command, r: ModelActionView): void {
  print(cmd, r, () => r.message);
}

/**
 * `earshot models …`. Returns the group so later subcommands (e.g. `advise`) can join it.
 */
export function registerModelCommands(program: Command): Command {
  const models = program
    .command('models')
    .description(
      'the Whisper, language and embedding models on this machine: list, install, import, remove, use',
    );

  models
    .command('list')
    .description('installed models (with the active one per kind), then the catalog')
    .action(async (_opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const list = await app.models();
        print(cmd, list, () => {
          const installed = list.filter((m) => m.installed);
          const available = list.filter((m) => !m.installed);
          const row = (m: ModelView) => [m.id, m.kind, size(m.bytes), state(m), verified(m), m.label];
          const head = ['ID', 'KIND', 'SIZE', 'STATE', 'CHECK', 'NAME'];
          return [
            installed.length
              ? `Installed:\n${table([head, ...installed.map(row)])}`
              : `No models installed yet: \`earshot models install ${app.modelStore.recommended('whisper') ?? 'ID'}\` gets a Whisper model (\`earshot models advise\` measures which suits this machine; \`earshot models import FILE\` adds one you have).`,
            ...(available.length ? [`\nAvailable to install:\n${table([head, ...available.map(row)])}`] : []),
          ].join('\n');
        });
      });
    });

  models
    .command('install')
    .argument('<id>', 'a model id from `earshot models list`')
    .description('download a model (an interrupted download resumes), verify its checksum, install it')
    .action(async (id: string, _opts, cmd: Command) => {
      await withApp(cmd, async (app) => {
        // Progress is for a person watching: a bar on stderr when it is a terminal, else nothing.
        const tty = process.stderr.isTTY === true;
        let drawn = false;
        const onProgress = (p: ModelProgressEvent) => {
          process.stderr.write(`\r${progressLine(p)}\x1b[K`);
          drawn = true;
        };
        if (tty) app.events.on('onModelProgress', onProgress);
        try {
          const r = await app.installModel(id);
          if (drawn) process.stderr.write('\n');
          printAction(cmd, r);
        } catch (err) {
          if (drawn) process.stderr.write('\n');
          throw err;
        } finally {
          app.events.off('onModelProgress', onProgress);
        }
      });
    });

  models
    .command('import')
    .argument('<file>', 'a model file (ggml .bin, .gguf) or an embedding-model folder')
    .description('add a model you already have; checked against the catalog when it is one of its models')
    .action(async (file: string, _opts, cmd: Command) => {
      await withApp(cmd, async (app) => printAction(cmd, await app.importModel(path.resolve(file))));
    });

  models
    .command('remove')
    .argument('<id>', 'an installed model (or one with an unfinished download)')
    .description('delete a model from this machine')
    .action(async (id: string, _opts, cmd: Command) => {
      await withApp(cmd, async (app) => printAction(cmd, await app.removeModel(id)));
    });

  models
    .command('use')
    .argument('<id>', 'an installed model')
    .description('make an installed model the one its kind (whisper, llm, embedding) uses')
    .action(async (id: string, _opts, cmd: Command) => {
      await withApp(cmd, async (app) => printAction(cmd, await app.useModel(id)));
    });

  models
    .command('advise')
    .option('--seconds <n>', 'audio per trial, 5-600 (default 30)', (v) =>
      positiveInt(v, 'a number of seconds'),
    )
    .description('measure this machine and recommend a Whisper model and a language model')
    .action(async (opts: { seconds?: number }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        if (!globals(cmd).json && process.stderr.isTTY)
          process.stderr.write('Measuring Whisper on this machine (a short run per model size)…\n');
        const a = await app.adviseModels(opts.seconds ? { seconds: opts.seconds } : undefined);
        print(cmd, a, () =>
          [
            `Whisper runs with ${a.binding.binding}${a.binding.variant === 'default' ? '' : ` (${a.binding.variant})`} on the ${a.binding.gpu ? 'GPU' : 'CPU'}, ${a.threads} threads (${a.binding.reason}).`,
            table([
              ['SIZE', 'SPEED', `TIME FOR ${a.audioSeconds} S`],
              ...a.trials.map((t) => [t.size, `${t.realtimeFactor}x real time`, `${t.seconds} s`]),
            ]),
            '',
            `Whisper: ${a.whisper.id} — ${a.whisper.reason}.`,
            `Language model: ${a.llm.id} — ${a.llm.reason}.`,
            `Backlog: ${a.backlog.text}`,
            ...a.notes,
            '',
            `Install with: earshot models install ${a.whisper.id} && earshot models use ${a.whisper.id}`,
          ].join('\n'),
        );
      });
    });

  return models;
}
