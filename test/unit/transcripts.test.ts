import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseChaptersJson, parseTranscript, transcriptFormat } from '../../pipeline/ingest/transcripts.ts';
import { repoRoot } from '../helpers/env.ts';

const read = (f: string) => fs.readFileSync(path.join(repoRoot, 'test/fixtures/transcripts', f), 'utf8');

describe('publisher transcripts', () => {
  it('reads WebVTT with voices into timed segments with speakers', () => {
    const t = parseTranscript(read('ep3.vtt'), 'vtt');
    expect(t).toMatchObject({ schemaVersion: 1, source: 'publisher', format: 'vtt', timed: true });
    expect(t.segments).toEqual([
      {
        startMs: 0,
        endMs: 4200,
        speaker: 'Mara Quinn',
        text: "Welcome to The Quiet Lab. Today I'm talking with Ilya Brandt.",
      },
      {
        startMs: 4200,
        endMs: 9750,
        speaker: 'Ilya Brandt',
        text: 'Thanks, Mara. Most of my career has been a series of useful failures.',
      },
      {
        startMs: 9750,
        endMs: 13000,
        speaker: 'Mara Quinn',
        text: "Let's start with the first one & what it taught you.",
      },
    ]);
  });

  it('reads SRT, joining wrapped lines', () => {
    expect(parseTranscript(read('ep3.srt'), 'srt').segments).toEqual([
      { startMs: 0, endMs: 4200, text: 'Welcome to The Quiet Lab.' },
      { startMs: 4200, endMs: 9750, text: 'Most of my career has been a series of useful failures.' },
    ]);
  });

  it('reads Podcasting 2.0 JSON, merging word-level pieces by speaker', () => {
    expect(parseTranscript(read('ep3.json'), 'json').segments).toEqual([
      { startMs: 0, endMs: 2400, speaker: 'Mara Quinn', text: 'Welcome to The Quiet Lab.' },
      {
        startMs: 4200,
        endMs: 9750,
        speaker: 'Ilya Brandt',
        text: 'Most of my career has been a series of useful failures.',
      },
    ]);
  });

  it('reads HTML as untimed paragraphs with speakers', () => {
    const t = parseTranscript(read('ep3.html'), 'html');
    expect(t.timed).toBe(false);
    expect(t.segments.map((s) => [s.speaker, s.text])).toEqual([
      ['Mara Quinn', 'Welcome to The Quiet Lab.'],
      ['Ilya Brandt', 'Most of my career has been a series of useful failures.'],
    ]);
  });

  it('recognizes formats by type or content, and refuses empty or broken files', () => {
    expect(transcriptFormat('application/x-subrip')).toBe('srt');
    expect(transcriptFormat('text/plain', read('ep3.vtt'))).toBe('vtt');
    expect(transcriptFormat('application/octet-stream', read('ep3.srt'))).toBe('srt');
    expect(() => parseTranscript('WEBVTT\n\n', 'vtt')).toThrow(/has no text in it/);
    expect(() => parseTranscript('{"segments": 3}', 'json')).toThrow(/no "segments" list/);
    expect(() => parseTranscript('{nope', 'json')).toThrow(/not valid JSON/);
  });

  it('reads chapters JSON, leaving out chapters hidden from the table of contents', () => {
    expect(parseChaptersJson(read('chapters.json'))).toEqual([
      { startMs: 0, title: 'Welcome' },
      { startMs: 330_500, title: 'First failure', url: 'https://quietlab.example/1' },
    ]);
  });
});
