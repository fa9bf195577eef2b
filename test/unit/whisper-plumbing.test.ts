import { describe, expect, it } from 'vitest';
import { planChunks } from '../../models/whisper/chunks.ts';
import { chooseBinding } from '../../models/whisper/choose.ts';
import { buildVocabulary, MAX_PROMPT_CHARS, namesIn } from '../../pipeline/ingest/vocabulary.ts';
import { renderTranscript } from '../../pipeline/ingest/transcript-formats.ts';
import { languageFor, pcmToFloat, whisperThreads } from '../../pipeline/steps/transcribe.ts';

const SR = 16_000;

describe('planChunks', () => {
  it('keeps short audio whole', () => {
    expect(planChunks(new Float32Array(SR * 150))).toEqual([0, SR * 150]);
  });

  it('cuts long audio just before each target, at the quietest 50 ms, never past it', () => {
    const samples = new Float32Array(SR * 400).map((_, i) => Math.sin(i / 7) * 0.5);
    // A silent 100 ms gap 2.5 s before the first target (120 s), and a quieter one just after it.
    samples.fill(0, SR * 121, SR * 121 + SR / 10);
    const gap = SR * 117.5;
    samples.fill(0, gap, gap + SR / 10);
    const cuts = planChunks(samples);
    expect(cuts[0]).toBe(0);
    expect(cuts.at(-1)).toBe(samples.length);
    expect(cuts[1]).toBeGreaterThanOrEqual(gap);
    expect(cuts[1]).toBeLessThanOrEqual(gap + SR / 10);
    for (let i = 1; i < cuts.length; i++) {
      expect(cuts[i]! - cuts[i - 1]!).toBeGreaterThan(SR * 60);
      // No piece but the last is longer than the target: none pays for an extra padded window.
      if (i < cuts.length - 1) expect(cuts[i]! - cuts[i - 1]!).toBeLessThanOrEqual(SR * 120);
    }
  });

  it('folds a short tail into the piece before it', () => {
    const cuts = planChunks(new Float32Array(SR * 250));
    expect(cuts).toHaveLength(3);
    expect(cuts[2]! - cuts[1]!).toBeGreaterThan(SR * 100);
  });
});

describe('chooseBinding', () => {
  const hw = (platform: NodeJS.Platform, arch: string, cuda = false, metal = false) => ({
    platform,
    arch,
    backends: { cuda, metal, cpu: true as const },
  });
  it('follows the measured rule per platform', () => {
    expect(chooseBinding(hw('linux', 'x64'), {})).toMatchObject({ binding: 'napi-rs', gpu: false });
    expect(chooseBinding(hw('linux', 'x64', true), {})).toMatchObject({
      binding: 'fugood',
      variant: 'cuda',
      gpu: true,
    });
    expect(chooseBinding(hw('win32', 'x64', true), {})).toMatchObject({ variant: 'cuda', gpu: true });
    expect(chooseBinding(hw('darwin', 'arm64', false, true), {})).toMatchObject({
      binding: 'fugood',
      gpu: true,
    });
    expect(chooseBinding(hw('win32', 'x64'), {})).toMatchObject({ binding: 'fugood', gpu: false });
    expect(chooseBinding(hw('linux', 'arm64'), {})).toMatchObject({ binding: 'fugood', gpu: false });
  });
  it('honours the overrides and refuses unknown ones', () => {
    expect(chooseBinding(hw('linux', 'x64', true), { EARSHOT_WHISPER_GPU: '0' })).toMatchObject({
      gpu: false,
    });
    expect(chooseBinding(hw('linux', 'x64'), { EARSHOT_WHISPER_BINDING: 'fugood' })).toMatchObject({
      binding: 'fugood',
      variant: 'default',
      gpu: false,
    });
    expect(chooseBinding(hw('linux', 'x64', true), { EARSHOT_WHISPER_BINDING: 'fugood-cuda' })).toMatchObject(
      {
        variant: 'cuda',
        gpu: true,
      },
    );
    expect(() => chooseBinding(hw('linux', 'x64'), { EARSHOT_WHISPER_BINDING: 'whisperx' })).toThrow(
      /not one of napi-rs/,
    );
  });
});

describe('Whisper vocabulary prompt', () => {
  it('names the show, host, episode and the people in the show notes', () => {
    const p = buildVocabulary({
      showTitle: 'Hard Fork',
      author: 'Kevin Roose and Casey Newton',
      episodeTitle: 'Jensen Huang on GPUs',
      description:
        '<p>This week Kevin Roose and Casey Newton talk to Sam Altman of OpenAI. Then Demis Hassabis joins. <a href="https://x">Subscribe Now</a>. Sam Altman again.</p>',
    });
    expect(p).toContain('Hard Fork, with Kevin Roose and Casey Newton.');
    expect(p).toContain('Jensen Huang on GPUs.');
    expect(p).toContain('Sam Altman');
    expect(p).toContain('Demis Hassabis');
    expect(p).not.toContain('Then Demis');
    expect(p).not.toContain('Subscribe');
    expect(p).not.toContain('<p>');
  });
  it('orders names by frequency and stays short', () => {
    expect(namesIn('We met Ada Lovelace. Alan Turing came. Alan Turing left.')).toEqual([
      'Alan Turing',
      'Ada Lovelace',
    ]);
    const many = Array.from(
      { length: 200 },
      (_, i) => `Person Number${String.fromCharCode(65 + (i % 26))}${i}`,
    );
    expect(buildVocabulary({ showTitle: 'S', description: many.join('. ') }).length).toBeLessThanOrEqual(
      MAX_PROMPT_CHARS,
    );
  });
});

describe('transcription helpers', () => {
  it('converts s16le PCM to floats', () => {
    const b = Buffer.alloc(6);
    b.writeInt16LE(-32768, 0);
    b.writeInt16LE(0, 2);
    b.writeInt16LE(16384, 4);
    expect([...pcmToFloat(b)]).toEqual([-1, 0, 0.5]);
  });
  it('tells English-only models their language and hints others with the feed’s', () => {
    expect(languageFor('whisper-base.en', 'de')).toBe('en');
    expect(languageFor('whisper-small.en-q5_1', null)).toBe('en');
    expect(languageFor('whisper-medium', 'de-DE')).toBe('de');
    expect(languageFor('whisper-large-v3-turbo', null)).toBe('auto');
    expect(languageFor('whisper-medium', 'not a language')).toBe('auto');
  });
  it('sets threads explicitly', () => {
    expect(whisperThreads(false, { EARSHOT_WHISPER_THREADS: '3' })).toBe(3);
    expect(whisperThreads(true, {})).toBeLessThanOrEqual(4);
    expect(whisperThreads(false, {})).toBeGreaterThan(0);
  });
});

describe('renderTranscript', () => {
  const t = {
    timed: true,
    segments: [
      { startMs: 0, endMs: 1500, text: 'Welcome back.' },
      { startMs: 3_601_500, endMs: 3_603_200, text: 'An hour in.', speaker: 'Ada' },
    ],
  };
  it('writes txt, srt, vtt and json', () => {
    expect(renderTranscript(t, 'txt')).toBe('Welcome back.\nAda: An hour in.\n');
    const srt = renderTranscript(t, 'srt');
    expect(srt).toContain('00:00:00,000 --> 00:00:01,500\nWelcome back.');
    expect(srt).toContain('01:00:01,500 --> 01:00:03,200\nAda: An hour in.');
    const vtt = renderTranscript(t, 'vtt');
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    expect(vtt).toContain('01:00:01.500 --> 01:00:03.200');
    expect(JSON.parse(renderTranscript(t, 'json'))).toEqual(t);
  });
  it('refuses subtitles for an untimed transcript, saying what to do', () => {
    expect(() => renderTranscript({ ...t, timed: false }, 'srt')).toThrow(/no timings.*--format txt/);
  });
});

describe('renderTranscript with no words', () => {
  it('still writes a valid VTT header', () => {
    expect(renderTranscript({ timed: true, segments: [] }, 'vtt')).toBe('WEBVTT\n');
    expect(renderTranscript({ timed: true, segments: [] }, 'srt')).toBe('');
  });
});
