#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
/**
 * `earshot`: the command line. Every command is a thin wrapper over the typed API; command
 * groups live in pipeline/commands/ and register themselves here.
 */
import { Command, CommanderError } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { registerEngineCommands } from './commands/engine.ts';
import { registerFeedCommands } from './commands/feeds.ts';
import { registerModelCommands } from './commands/models.ts';
import { registerTranscriptCommands } from './commands/transcripts.ts';
import { registerSearchCommands } from './commands/search.ts';
import { registerUnderstandCommands } from './commands/understand.ts';
import { registerFailureCommands } from './commands/failures.ts';
import { privateUmask } from './store/paths.ts';
import { terminalSafe } from './ingest/clean-text.ts';
import { registerListenCommands } from './commands/listen.ts';
import { registerDigestCommands } from './commands/digest.ts';
import { registerSettingsCommands } from './commands/settings.ts';

export function buildProgram(): Command {
  const program = new Command('earshot')
    .description('Earshot: your podcasts, transcribed and searchable, on your own machine.')
    .option('--data-dir <dir>', 'library folder (default: EARSHOT_DATA_DIR, else the app-data folder)')
    .option('--json', 'print machine-readable JSON')
    .version(pkg.version, '-V, --version', "print Earshot's version")
    .showHelpAfterError('(see `earshot --help`)')
    .exitOverride();
  registerEngineCommands(program);
  registerFeedCommands(program);
  registerModelCommands(program);
  registerTranscriptCommands(program);
  registerSearchCommands(program);
  registerUnderstandCommands(program);
  registerFailureCommands(program);
  registerListenCommands(program);
  registerDigestCommands(program);
  registerSettingsCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // The library (and every file the engine and its workers write) is for this user alone.
  privateUmask();
  const program = buildProgram();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    await program.parseAsync(argv);
    // A command that finished but failed on the whole (every feed unreadable) set the code.
    return Number(process.exitCode ?? 0);
  } catch (err) {
    // Exit codes: 0 done (help and --version too), 1 a bad input (a value that is not valid, an
    // episode that does not exist, a feed that cannot be read), 2 a usage mistake (an unknown
    // command or option, a missing argument). Commander printed its own message already.
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      return err.code === 'commander.invalidArgument' ? 1 : 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`earshot: ${terminalSafe(message.split('\n')[0] ?? '')}\n`);
    return 1;
  }
}

/**
 * The reader went away (`earshot episodes | head`): what is left unsaid is not wanted, so stop
 * quietly. Any other output error is reported once.
 */
export function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`earshot: could not write the output: ${err.message}\n`);
    process.exit(1);
  });
}

if (import.meta.main) {
  quietOnClosedPipe(process.stdout);
  process.exitCode = await main(process.argv);
}
