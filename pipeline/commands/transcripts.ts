import { Option, type Command } from 'commander';
import { globals, positiveInt, withApp } from './io.ts';
import {
  renderTranscript,
  TRANSCRIPT_FORMATS,
  type TranscriptOutputFormat,
} from '../ingest/transcript-formats.ts';
import { ApiInputError } from '../api/schemas.ts';
import { terminalSafe } from '../ingest/clean-text.ts';

/** `earshot transcript`: an episode's transcript as text, subtitles or JSON. */
export function registerTranscriptCommands(program: Command): void {
  program
    .command('transcript')
    .argument('<episode-id>', 'the episode (see `earshot episodes`)', (v) =>
      positiveInt(v, 'an episode id (see `earshot episodes`)'),
    )
    .addOption(
      new Option('--format <format>', 'txt, srt, vtt or json (default txt; json with --json)').choices(
        TRANSCRIPT_FORMATS,
      ),
    )
    .description("print an episode's transcript")
    .action(async (id: number, opts: { format?: TranscriptOutputFormat }, cmd: Command) => {
      const format = opts.format ?? (globals(cmd).json ? 'json' : 'txt');
      await withApp(cmd, async (app) => {
        const t = await app.transcript(id);
        try {
          process.stdout.write(terminalSafe(renderTranscript(t, format)));
        } catch (err) {
          throw new ApiInputError((err as Error).message);
        }
      });
    });
}
