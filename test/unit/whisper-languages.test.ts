import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../models/catalog.ts';
import {
  declaresNonEnglish,
  englishOnlyProblem,
  isEnglishOnly,
  multilingualCounterpart,
  whisperModelFor,
} from '../../models/whisper/languages.ts';

describe('Whisper models for every language', () => {
  it('the catalog has multilingual tiny, base and small, full and quantized, with real sizes and checksums', () => {
    for (const id of ['tiny', 'tiny-q5_1', 'base', 'base-q5_1', 'small', 'small-q5_1']) {
      const m = CATALOG.find((c) => c.id === `whisper-${id}`);
      expect(m, id).toBeDefined();
      expect(m!.file).toBe(`ggml-${id}.bin`);
      expect(m!.bytes).toBeGreaterThan(30_000_000);
      expect(m!.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m!.sha1).toMatch(/^[0-9a-f]{40}$/);
      expect(m!.source).toMatch(/sha256/);
      expect(isEnglishOnly(m!.id)).toBe(false);
      // Quantized is smaller than full precision; an English-only sibling is within 0.1 % of it.
      const en = CATALOG.find((c) => c.id === `whisper-${id.replace(/(-|$)/, '.en$1')}`);
      if (en?.bytes) expect(Math.abs(en.bytes - m!.bytes!) / en.bytes).toBeLessThan(0.001);
    }
    // Each size's multilingual file is bigger than its quantized build.
    const bytes = (id: string) => CATALOG.find((c) => c.id === id)!.bytes!;
    expect(bytes('whisper-small')).toBeGreaterThan(bytes('whisper-small-q5_1'));
  });

  it('tells English-only models and non-English shows apart', () => {
    expect(isEnglishOnly('whisper-base.en')).toBe(true);
    expect(isEnglishOnly('whisper-base.en-q5_1')).toBe(true);
    expect(isEnglishOnly('whisper-base')).toBe(false);
    expect(isEnglishOnly('whisper-large-v3-turbo')).toBe(false);
    expect(multilingualCounterpart('whisper-small.en-q5_1')).toBe('whisper-small-q5_1');
    expect(multilingualCounterpart('whisper-small')).toBeNull();
    expect(declaresNonEnglish('de-AT')).toBe(true);
    expect(declaresNonEnglish('en-GB')).toBe(false);
    expect(declaresNonEnglish(null)).toBe(false);
  });

  it('a show in another language never gets an English-only model: an installed multilingual one, the same size first', () => {
    expect(
      whisperModelFor('whisper-base.en', 'ca', ['whisper-base.en', 'whisper-small', 'whisper-base']),
    ).toBe('whisper-base');
    expect(whisperModelFor('whisper-base.en', 'pl', ['whisper-base.en', 'whisper-small'])).toBe(
      'whisper-small',
    );
    expect(whisperModelFor('whisper-base.en', 'en', ['whisper-base'])).toBe('whisper-base.en');
    expect(whisperModelFor('whisper-base.en', null, ['whisper-base'])).toBe('whisper-base.en');
    // Nothing that can do it is installed: the step refuses and names the model it needs.
    expect(whisperModelFor('whisper-base.en', 'nl', ['whisper-base.en'])).toBe('whisper-base.en');
    expect(englishOnlyProblem('whisper-base.en', 'nl', 12)).toBe(
      "This episode's show is in Dutch (nl), and the Whisper model whisper-base.en transcribes English only, so Earshot did not use it. It needs a multilingual model such as whisper-base: install it (`earshot models install whisper-base`, or Settings → Models), then `earshot process 12`.",
    );
    expect(englishOnlyProblem('whisper-small.en-q5_1', 'de', 3)).toMatch(/German \(de\).*whisper-small-q5_1/);
    expect(englishOnlyProblem('whisper-base', 'de')).toBeNull();
    expect(englishOnlyProblem('whisper-base.en', 'en-US')).toBeNull();
  });
});
