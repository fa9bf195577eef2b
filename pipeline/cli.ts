#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
/**
 * `earshot`: the command line. Every command is a thin wrapper over the typed API; command
 * groups live in pipeline/commands/ and register themselves here.
 */
import { Command, CommanderError } from 'commander';
import { registerEngineCommands } from './commands/engine.ts';
import { registerFeedCommands } from './commands/feeds.ts';
import { registerModelCommands } from './commands/models.ts';
import { registerTranscriptCommands } from './commands/transcripts.ts';
import { registerSearchCommands } from './commands/search.ts';
import { registerUnderstandCommands } from './commands/understand.ts';
import { privateUmask } from './store/paths.ts';
import { terminalSafe } from './ingest/clean-text.ts';

export function buildProgram(): Command {
  const program = new Command('earshot')
    .description('Earshot: your podcasts, transcribed and searchable, on your own machine.')
    .option('--data-dir <dir>', 'library folder (default: EARSHOT_DATA_DIR, else the app-data folder)')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError('(see `earshot --help`)')
    .exitOverride();
  registerEngineCommands(program);
  registerFeedCommands(program);
  registerModelCommands(program);
  registerTranscriptCommands(program);
  registerSearchCommands(program);
  registerUnderstandCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // The library (and every file the engine and its workers write) is for this user alone.
  privateUmask();
  const program = buildProgram();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`earshot: ${terminalSafe(message.split('\n')[0] ?? '')}\n`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv);
}
