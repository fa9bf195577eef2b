/**
 * The app speaks its own language: the API's messages name CLI commands (for the command line),
 * and the renderer's transport turns them into buttons and screens before any view shows them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/env.ts';

// The renderer is type-checked by tsconfig.web.json; importing it by a computed URL keeps it out
// of tsconfig.node.json's program, so only its behaviour is tested here.
const renderer = (p: string) => new URL(`../../renderer/src/${p}`, import.meta.url).href;
interface FakeTransport {
  kind: 'http';
  invoke(name: string, ...args: unknown[]): Promise<unknown>;
  on(): () => void;
  assetUrl(p: string): string;
}
const words = (await import(renderer('words.ts'))) as {
  appWords(text: string): string;
  inAppWords(t: FakeTransport): FakeTransport;
  statusWords(status: string, waitingFor?: string | null): string;
  stepWords(step: string): string;
  etaWords(ms: number): string;
};
const { appWords } = words;

/** Every command a message of the engine, the API or the models names (the CLI's own files aside). */
function commandsInMessages(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(path.join(repoRoot, 'pipeline'));
  walk(path.join(repoRoot, 'models'));
  const found = new Set<string>();
  for (const file of files) {
    const rel = path.relative(repoRoot, file);
    if (rel.startsWith(path.join('pipeline', 'commands')) || rel === path.join('pipeline', 'cli.ts'))
      continue;
    const text = fs.readFileSync(file, 'utf8');
    // `earshot …` in a plain string, \`earshot …\` in a template literal.
    for (const m of text.matchAll(/\\?`earshot ((?:[^`\\\n]|\\(?!`))+?)\\?`/g)) {
      found.add(m[1]!.replace(/\$\{[^}]*\}/g, '12'));
    }
  }
  return [...found];
}

describe('the app’s words for the API’s messages', () => {
  it('names buttons and screens instead of commands', () => {
    const cases: [string, string][] = [
      [
        'There is no episode 99999; `earshot episodes` lists them.',
        'There is no episode 99999; Podcasts lists them.',
      ],
      ['A feed id is a number (see `earshot feeds`).', 'A feed id is a number (see Podcasts).'],
      [
        'Episode 12 has no transcript yet (it is listed). `earshot process 12` queues it; `earshot status` shows the progress.',
        'Episode 12 has no transcript yet (it is listed). Process, on its page, queues it; Activity shows the progress.',
      ],
      [
        'No Whisper model is chosen, so this episode cannot be transcribed. Install one (`earshot models install whisper-base.en`, or the Models screen); the episode goes on by itself.',
        'No Whisper model is chosen, so this episode cannot be transcribed. Install one (in Models: whisper-base.en); the episode goes on by itself.',
      ],
      [
        'It needs a multilingual model such as whisper-base: install it (`earshot models install whisper-base`, or Settings → Models), then `earshot process 12`.',
        'It needs a multilingual model such as whisper-base: install it (in Models: whisper-base), then process it again (Process, on its page).',
      ],
      [
        'whisper-small is not installed; install it first with `earshot models install whisper-small`.',
        'whisper-small is not installed; install it first in Models (whisper-small).',
      ],
      [
        'The active whisper model is still a; `earshot models use b` switches to this one.',
        'The active whisper model is still a; Use, in Models, switches to this one.',
      ],
      [
        'The download ended early (1 MB of 2 MB). What arrived is kept: run `earshot models install x` again to resume.',
        'The download ended early (1 MB of 2 MB). What arrived is kept: install x again in Models to resume.',
      ],
      [
        'Decoding this file took longer than 30 min, so Earshot stopped it. The file may be damaged; `earshot retry` tries again.',
        'Decoding this file took longer than 30 min, so Earshot stopped it. The file may be damaged; Try again, in Problems, tries again.',
      ],
    ];
    for (const [api, app] of cases) expect(appWords(api)).toBe(app);
    // What names no command is left as it is.
    const plain = 'The feed answered 404: check the address.';
    expect(appWords(plain)).toBe(plain);
  });

  it('leaves no command in any message the engine, the API or the models can send', () => {
    const commands = commandsInMessages();
    // The sweep found the commands messages name (so it would notice a new one).
    expect(commands).toEqual(
      expect.arrayContaining(['episodes', 'process 12', 'models install 12', 'retry']),
    );
    for (const command of commands) {
      const out = appWords(`Something happened; \`earshot ${command}\` does it.`);
      if (command.startsWith('serve')) continue;
      expect(out, command).not.toMatch(/`|earshot /);
    }
  });

  it('the transport rewords errors (keeping their name) and the messages in results', async () => {
    const inner: FakeTransport = {
      kind: 'http',
      async invoke(name) {
        if (name === 'episode') {
          const err = new Error('There is no episode 7; `earshot episodes` lists them.');
          err.name = 'ApiInputError';
          throw err;
        }
        if (name === 'useModel')
          return { model: { id: 'm' }, message: 'Run `earshot models install m` again.' };
        return { untouched: '`earshot jobs`' };
      },
      on: () => () => {},
      assetUrl: (p) => p,
    };
    const t = words.inAppWords(inner);
    const err = (await t.invoke('episode', 7).catch((e: unknown) => e)) as Error;
    expect([err.name, err.message]).toEqual(['ApiInputError', 'There is no episode 7; Podcasts lists them.']);
    expect(await t.invoke('useModel', 'm')).toEqual({
      model: { id: 'm' },
      message: 'Install m again in Models.',
    });
    // Only messages are rewritten: titles and other text pass as they are.
    expect(await t.invoke('episodePage')).toEqual({ untouched: '`earshot jobs`' });
  });

  it('statuses, steps and times left in words', () => {
    expect(words.statusWords('waiting', 'a Whisper model')).toBe('Waiting for a Whisper model');
    expect(words.statusWords('queued')).toBe('Queued');
    expect(words.statusWords('transcribed')).toBe('Transcribed');
    expect(words.stepWords('transcribe')).toBe('Transcribing');
    expect(words.etaWords(20_000)).toBe('less than a minute left');
    expect(words.etaWords(3 * 60_000)).toBe('about 3 min left');
    expect(words.etaWords(80 * 60_000)).toBe('about 1 h 20 min left');
  });
});
