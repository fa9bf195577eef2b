import { describe, expect, it } from 'vitest';
import { CATALOG, NOTE_IDS, catalogEntry } from '../../models/catalog.ts';

describe('model catalog', () => {
  it('has unique ids, every kind, and a label for every model', () => {
    const ids = CATALOG.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(CATALOG.map((m) => m.kind))).toEqual(new Set(['whisper', 'llm', 'embedding']));
    expect(NOTE_IDS.sort()).toEqual([...ids].sort());
  });

  it('has well-formed facts: https URLs, hashes of the right shape, sizes that are whole bytes', () => {
    for (const m of CATALOG) {
      expect(m.url, m.id).toMatch(/^https:\/\/huggingface\.co\/[^\s]+\/resolve\/[^\s]+$/);
      expect(m.url.endsWith(m.file.split('/').pop()!), m.id).toBe(true);
      expect(m.sha256 ?? m.sha1, `${m.id} has a hash to verify against`).not.toBeNull();
      if (m.sha256 !== null) expect(m.sha256, m.id).toMatch(/^[0-9a-f]{64}$/);
      if (m.sha1 !== null) expect(m.sha1, m.id).toMatch(/^[0-9a-f]{40}$/);
      if (m.bytes !== null) {
        expect(Number.isInteger(m.bytes) && m.bytes > 1_000_000, m.id).toBe(true);
        expect(m.memoryBytes!, m.id).toBeGreaterThan(m.bytes);
      }
      expect(m.licence.length, m.id).toBeGreaterThan(2);
      expect(m.source.length, `${m.id} says where its facts come from`).toBeGreaterThan(10);
    }
  });

  it('Whisper models grow in size from tiny to large', () => {
    const size = (id: string) => catalogEntry(id).bytes!;
    expect(size('whisper-tiny.en')).toBeLessThan(size('whisper-base.en'));
    expect(size('whisper-base.en')).toBeLessThan(size('whisper-small.en'));
    expect(size('whisper-small.en')).toBeLessThan(size('whisper-medium'));
    expect(size('whisper-small.en-q5_1')).toBeLessThan(size('whisper-small.en'));
    expect(() => catalogEntry('whisper-huge')).toThrow(/knows no model "whisper-huge"/);
  });
});
