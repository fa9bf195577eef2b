import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chunkTranscript, countTokens, notesText, splitSentences } from '../../pipeline/search/chunk.ts';
import { parseTranscript } from '../../pipeline/ingest/transcripts.ts';
import { transcriptFixture } from '../helpers/search-library.ts';

const money = () => parseTranscript(fs.readFileSync(transcriptFixture('money-talk.srt'), 'utf8'), 'srt');
const garden = () => parseTranscript(fs.readFileSync(transcriptFixture('garden-hour.vtt'), 'utf8'), 'vtt');

describe('sentence splitting', () => {
  it('keeps abbreviations, decimals and ellipses inside sentences and returns exact offsets', () => {
    const text = 'Dr. Smith paid $3.50 for it... then left. Did he? Yes!  Next one';
    const s = splitSentences(text).map((r) => text.slice(r.start, r.end));
    expect(s).toEqual(['Dr. Smith paid $3.50 for it... then left.', 'Did he?', 'Yes!', 'Next one']);
  });
});

describe('chunking a transcript', () => {
  it('makes sentence-aligned chunks of about the target size that cover the whole text', () => {
    const t = money();
    const chunks = chunkTranscript(t.segments, true, { targetTokens: 120, overlapTokens: 25 });
    expect(chunks.length).toBeGreaterThan(3);
    const full = t.segments.map((s) => s.text).join(' ');
    for (const c of chunks) {
      expect(c.tokens).toBeLessThanOrEqual(120);
      expect(countTokens(c.text)).toBe(c.tokens);
      // Sentence-aligned: every chunk starts with a capital (a sentence start) and ends a sentence.
      expect(c.text).toMatch(/^[A-Z"]/);
      expect(c.text).toMatch(/[.?!]$/);
      expect(full.includes(c.text)).toBe(true);
    }
    expect(chunks.slice(0, -1).every((c) => c.tokens > 60)).toBe(true);
    expect(full.startsWith(chunks[0]!.text)).toBe(true);
    expect(full.endsWith(chunks.at(-1)!.text)).toBe(true);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
  });

  it('repeats the last sentence(s) of a chunk at the start of the next, within the overlap', () => {
    const chunks = chunkTranscript(money().segments, true, { targetTokens: 120, overlapTokens: 25 });
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1]!.text;
      const next = chunks[i]!.text;
      const shared = splitSentences(next)
        .map((r) => next.slice(r.start, r.end))
        .filter((s) => prev.endsWith(s) || prev.includes(`${s} `));
      expect(shared.length).toBeGreaterThan(0);
      expect(countTokens(shared.join(' '))).toBeLessThanOrEqual(25);
    }
    const none = chunkTranscript(money().segments, true, { targetTokens: 120, overlapTokens: 0 });
    expect(none.map((c) => c.text).join(' ')).toBe(
      money()
        .segments.map((s) => s.text)
        .join(' '),
    );
  });

  it('gives each chunk the times of the segments it came from', () => {
    const t = garden();
    const chunks = chunkTranscript(t.segments, true, { targetTokens: 100, overlapTokens: 20 });
    expect(chunks[0]!.startMs).toBe(0);
    expect(chunks.at(-1)!.endMs).toBe(t.segments.at(-1)!.endMs);
    for (const c of chunks) {
      expect(c.endMs).toBeGreaterThan(c.startMs);
      // A chunk starting at a segment's first sentence starts at that segment's time exactly.
      const seg = t.segments.find((s) => c.text.startsWith(s.text.slice(0, 30)));
      if (seg) expect(c.startMs).toBe(seg.startMs);
    }
    const powdery = chunks.find((c) => c.text.includes('powdery mildew'))!;
    const cue = t.segments.find((s) => s.text.includes('powdery mildew'))!;
    expect(powdery.startMs).toBeLessThanOrEqual(cue.startMs);
    expect(powdery.endMs).toBeGreaterThanOrEqual(cue.startMs);
  });

  it('interpolates inside a long segment by character position', () => {
    const a = 'First sentence is here. '.repeat(20).trim();
    const b = 'Second part talks about something else. '.repeat(20).trim();
    const chunks = chunkTranscript([{ startMs: 10_000, endMs: 110_000, text: `${a} ${b}` }], true, {
      targetTokens: 100,
      overlapTokens: 0,
    });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0]!.startMs).toBe(10_000);
    expect(chunks[1]!.startMs).toBeGreaterThan(10_000);
    expect(chunks[1]!.startMs).toBeLessThan(110_000);
    expect(chunks.at(-1)!.endMs).toBe(110_000);
  });

  it('cuts an unpunctuated monologue at word boundaries and gives untimed transcripts time 0', () => {
    const words = Array.from({ length: 700 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkTranscript([{ startMs: 0, endMs: 0, text: words }], false, { targetTokens: 300 });
    expect(chunks.length).toBe(3);
    expect(chunks.every((c) => c.tokens <= 300 && c.startMs === 0 && c.endMs === 0)).toBe(true);
    expect(chunks.map((c) => c.text).join(' ')).toBe(words);
  });

  it('the same text gives the same fingerprints; an empty transcript gives no chunks', () => {
    const a = chunkTranscript(money().segments, true);
    const b = chunkTranscript(money().segments, true);
    expect(a.map((c) => c.fingerprint)).toEqual(b.map((c) => c.fingerprint));
    expect(new Set(a.map((c) => c.fingerprint)).size).toBe(a.length);
    expect(chunkTranscript([], true)).toEqual([]);
  });

  it('reads show notes out of their HTML', () => {
    expect(
      notesText('<p>Guest: <a href="https://x.y">Ada Lovelace</a> &amp; friends</p><img src="a.png">'),
    ).toBe('Guest: Ada Lovelace & friends');
  });
});
