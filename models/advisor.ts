import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { HardwareReport } from './hardware.ts';
import { CATALOG } from './catalog.ts';
import { chooseBinding, type BindingChoice } from './whisper/choose.ts';
import { loadWhisper } from './whisper/index.ts';
import { writeEmptyWhisperModel, type WhisperModelSize } from './whisper/empty-model.ts';
import { SAMPLE_RATE } from './whisper/types.ts';
import { declaresNonEnglish, languageName } from './whisper/languages.ts';

/**
 * `earshot models advise`: which Whisper model and which language model suit this machine, and
 * how long the current backlog would take.
 *
 * Whisper is measured, not guessed: for each size, a model file with that size's real
 * dimensions but no weights (whisper/empty-model.ts) transcribes a stretch of synthetic audio
 * through the binding Earshot would use here. That costs what the real model costs to run (the
 * encoder dominates; the decoder of a weightless model gives up early and retries, so the figure
 * errs slow). Sizes stop once one is too slow to be useful. The language model is chosen by
 * memory: it runs on the cpu lane beside Whisper, so it must fit next to everything else.
 */

export interface WhisperTrial {
  size: WhisperModelSize;
  /** Seconds of audio per second of work; 4 means an hour-long episode takes 15 minutes. */
  realtimeFactor: number;
  seconds: number;
}

export interface BacklogFacts {
  episodes: number;
  /** Episodes whose length the feed did not say; counted at `assumedMinutes`. */
  unknownLength: number;
  knownMs: number;
}

export interface Advice {
  binding: BindingChoice;
  threads: number;
  audioSeconds: number;
  trials: WhisperTrial[];
  whisper: { id: string; label: string; realtimeFactor: number | null; reason: string };
  llm: { id: string; label: string; reason: string };
  backlog: { episodes: number; audioHours: number; estimateHours: number | null; text: string };
  notes: string[];
}

/** A model fast enough to keep up: an hour of audio in at most 15 minutes. */
export const TARGET_RTF = 4;
/** Below this, larger sizes are not tried (each is slower still). */
const GIVE_UP_RTF = 1;
const ASSUMED_MINUTES = 60;

/** Speech-like test audio: a voiced buzz whose pitch and loudness move like syllables. */
export function syntheticSpeech(seconds: number): Float32Array {
  const n = Math.round(seconds * SAMPLE_RATE);
  const out = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / SAMPLE_RATE;
    const pitch = 120 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * pitch) / SAMPLE_RATE;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 3.1 * t));
    out[i] = 0.3 * syllable * (Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.25 * Math.sin(3 * phase));
  }
  return out;
}

/** Catalog id for a Whisper size (the full-precision file; the compact one is noted). */
function whisperId(size: WhisperModelSize): string {
  return `whisper-${size}`;
}

function label(id: string): string {
  return CATALOG.find((c) => c.id === id)?.label ?? id;
}

export function recommendLlm(hw: Pick<HardwareReport, 'memory' | 'gpus'>): Advice['llm'] {
  const ramGb = hw.memory.totalBytes / 1024 ** 3;
  const vramGb = Math.max(0, ...hw.gpus.map((g) => (g.vramBytes ?? 0) / 1024 ** 3));
  const metal = hw.gpus.some((g) => g.backend === 'metal');
  const pick = (id: string, reason: string) => ({ id, label: label(id), reason });
  if ((metal && ramGb >= 16) || vramGb >= 6 || ramGb >= 24)
    return pick(
      'llama-3.2-3b-instruct-q4_k_m',
      `${Math.round(ramGb)} GB of memory${vramGb ? ` and ${Math.round(vramGb)} GB on the GPU` : ''}: room for a 3B model beside Whisper`,
    );
  if (ramGb >= 8)
    return pick(
      'qwen2.5-1.5b-instruct-q4_k_m',
      `${Math.round(ramGb)} GB of memory: a 1.5B model fits beside Whisper`,
    );
  return pick(
    'qwen2.5-0.5b-instruct-q4_k_m',
    `${Math.round(ramGb)} GB of memory: only the smallest model fits`,
  );
}

export function backlogEstimate(facts: BacklogFacts, realtimeFactor: number | null): Advice['backlog'] {
  const audioMs = facts.knownMs + facts.unknownLength * ASSUMED_MINUTES * 60_000;
  const audioHours = audioMs / 3_600_000;
  const estimateHours = realtimeFactor ? audioHours / realtimeFactor : null;
  const eps = `${facts.episodes} episode${facts.episodes === 1 ? '' : 's'}`;
  const text =
    facts.episodes === 0
      ? 'Nothing is waiting to be transcribed.'
      : estimateHours === null
        ? `${eps} (${audioHours.toFixed(1)} h of audio) are waiting.`
        : `${eps} ≈ ${estimateHours < 1 ? `${Math.max(1, Math.round(estimateHours * 60))} min` : `${estimateHours.toFixed(estimateHours < 10 ? 1 : 0)} h`}` +
          (facts.unknownLength
            ? ` (${facts.unknownLength} of unknown length counted as ${ASSUMED_MINUTES} min)`
            : '');
  return { episodes: facts.episodes, audioHours: Math.round(audioHours * 10) / 10, estimateHours, text };
}

export async function advise(options: {
  hardware: HardwareReport;
  backlog: BacklogFacts;
  /** Languages the subscribed feeds declare (RSS <language>), to know if English-only models do. */
  feedLanguages?: string[];
  /** Audio per trial, seconds. Default 30 (one Whisper window). */
  seconds?: number;
  threads?: number;
  env?: NodeJS.ProcessEnv;
  onTrial?: (t: WhisperTrial) => void;
}): Promise<Advice> {
  const env = options.env ?? process.env;
  const hw = options.hardware;
  const binding = chooseBinding(hw, env);
  const threads = options.threads ?? (binding.gpu ? Math.min(4, hw.cpu.cores) : hw.cpu.cores);
  const seconds = options.seconds ?? 30;
  const notes: string[] = [];
  const others = [
    ...new Set((options.feedLanguages ?? []).filter(declaresNonEnglish).map((l) => languageName(l))),
  ];
  const english = others.length === 0;
  // English-only models are a little better at English; a show in any other language needs a
  // multilingual one (they come in every size).
  const sizes: WhisperModelSize[] = english
    ? binding.gpu
      ? ['base.en', 'small.en', 'medium', 'large-v3-turbo']
      : ['tiny.en', 'base.en', 'small.en', 'medium']
    : binding.gpu
      ? ['base', 'small', 'medium', 'large-v3-turbo']
      : ['tiny', 'base', 'small', 'medium'];
  if (!english)
    notes.push(
      `Some shows you follow are not in English (${others.join(', ')}): only multilingual Whisper models were considered; an English-only (".en") model is never used for them.`,
    );
  // EARSHOT_ADVISE_SIZES=tiny.en,base.en limits the sizes tried (tests, impatient users).
  const only = env.EARSHOT_ADVISE_SIZES?.split(',').map((x) => x.trim());
  if (only?.length) sizes.splice(0, sizes.length, ...sizes.filter((x) => only.includes(x)));
  if (sizes.length === 0)
    throw new Error(
      `EARSHOT_ADVISE_SIZES="${env.EARSHOT_ADVISE_SIZES}" names no size Earshot would try here.`,
    );
  const audio = syntheticSpeech(seconds);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-advise-'));
  const trials: WhisperTrial[] = [];
  try {
    for (const size of sizes) {
      const file = path.join(dir, `${size}.bin`);
      writeEmptyWhisperModel(file, size);
      const model = await loadWhisper(file, binding);
      try {
        // The first run in a process also pays for starting the binding (threads, buffers, on a
        // GPU the kernels): an untimed run first, so the smallest size is not measured as slower.
        if (trials.length === 0)
          await model.transcribe(audio.subarray(0, SAMPLE_RATE), { threads, language: 'en' });
        const t0 = performance.now();
        // A language is given so no time goes on detecting one (its cost is the same for all).
        await model.transcribe(audio, { threads, language: 'en' });
        const s = (performance.now() - t0) / 1000;
        const trial = {
          size,
          seconds: Math.round(s * 100) / 100,
          realtimeFactor: Math.round((seconds / s) * 10) / 10,
        };
        trials.push(trial);
        options.onTrial?.(trial);
      } finally {
        await model.close();
        fs.rmSync(file, { force: true });
      }
      if (trials.at(-1)!.realtimeFactor < GIVE_UP_RTF) break;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const fast = trials.filter((t) => t.realtimeFactor >= TARGET_RTF);
  const best = fast.at(-1) ?? trials[0]!;
  const id = whisperId(best.size);
  const reason = fast.length
    ? `the largest model that transcribes at least ${TARGET_RTF}× faster than real time here (${best.realtimeFactor}×)`
    : `even the smallest model runs at ${best.realtimeFactor}× real time here; transcription will be slow`;
  if (!binding.gpu) notes.push('No usable GPU: Whisper runs on the processor, one episode at a time.');
  return {
    binding,
    threads,
    audioSeconds: seconds,
    trials,
    whisper: { id, label: label(id), realtimeFactor: best.realtimeFactor, reason },
    llm: recommendLlm(hw),
    backlog: backlogEstimate(options.backlog, best.realtimeFactor),
    notes,
  };
}
