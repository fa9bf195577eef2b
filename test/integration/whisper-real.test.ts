import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectHardware } from '../../models/hardware.ts';
import { chooseBinding, loadWhisper } from '../../models/whisper/index.ts';
import { syntheticSpeech } from '../../models/advisor.ts';
import { decodeToPcm } from '../../pipeline/ingest/ffmpeg.ts';
import { pcmToFloat } from '../../pipeline/steps/transcribe.ts';
import { tempDir } from '../helpers/env.ts';

/**
 * Whisper with real weights. No real model can be downloaded on the build machines, so this
 * runs only when EARSHOT_MODELS_DIR holds a whisper.cpp model (ggml-*.bin, or a folder per model
 * as the model manager lays them out). With EARSHOT_TEST_SPEECH pointing at a recording of
 * speech (any format ffmpeg reads), it also checks words come out, with ordered timestamps.
 */
function findRealModel(dir: string | undefined): string | null {
  if (!dir || !fs.existsSync(dir)) return null;
  const candidates = fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /ggml-.*\.bin$/.test(f))
    .map((f) => path.join(dir, f))
    // An empty (weightless) model is a few hundred KB; the smallest real one is 31 MB.
    .filter((f) => fs.statSync(f).size > 20 * 1024 * 1024)
    .sort((a, b) => fs.statSync(a).size - fs.statSync(b).size);
  return candidates[0] ?? null;
}

const model = findRealModel(process.env.EARSHOT_MODELS_DIR);
if (!model)
  console.warn(
    `SKIPPED whisper-real: no real Whisper model in EARSHOT_MODELS_DIR (${process.env.EARSHOT_MODELS_DIR ?? 'unset'}). ` +
      'Put e.g. ggml-tiny.en.bin there (`earshot models install whisper-tiny.en` on a machine with internet) to run it.',
  );

describe.skipIf(!model)('Whisper with a real model', () => {
  it('loads through the chosen binding and transcribes with ordered timestamps', async () => {
    const choice = chooseBinding(await detectHardware());
    const whisper = await loadWhisper(model!, choice);
    try {
      const speech = process.env.EARSHOT_TEST_SPEECH;
      let samples: Float32Array;
      if (speech) {
        const pcm = path.join(tempDir(), 'speech.pcm');
        await decodeToPcm(speech, pcm);
        samples = pcmToFloat(fs.readFileSync(pcm));
      } else samples = syntheticSpeech(20);
      const progress: number[] = [];
      const r = await whisper.transcribe(samples, {
        threads: 2,
        language: /\.en/.test(model!) ? 'en' : 'auto',
        onProgress: (f) => progress.push(f),
      });
      expect(r.language).toMatch(/^[a-z]{2,3}$/);
      for (let i = 1; i < r.segments.length; i++)
        expect(r.segments[i]!.startMs).toBeGreaterThanOrEqual(r.segments[i - 1]!.startMs);
      for (const s of r.segments) expect(s.endMs).toBeGreaterThanOrEqual(s.startMs);
      if (speech) {
        expect(r.segments.length).toBeGreaterThan(0);
        expect(r.segments.map((s) => s.text).join(' ')).toMatch(/\p{L}{2,}/u);
      }
      expect(progress.at(-1)).toBe(1);
    } finally {
      await whisper.close();
    }
  }, 600_000);
});
