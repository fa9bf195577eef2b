import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TypedStepContext } from '../engine/workflow.ts';
import { PermanentStepError } from '../engine/workflow.ts';
import { clause } from '../clause.ts';
import { decodeToPcm } from '../ingest/ffmpeg.ts';
import type { Transcript } from '../ingest/transcripts.ts';
import { writeJsonArtifact } from '../base/artifacts.ts';
import { detectHardware } from '../../models/hardware.ts';
import {
  chooseBinding,
  loadWhisper,
  TranscriptionAborted,
  type BindingChoice,
  type LoadedWhisper,
} from '../../models/whisper/index.ts';
import { resolveInstalledModel } from '../../models/manager.ts';
import { englishOnlyProblem, isEnglishOnly, primaryLanguage } from '../../models/whisper/languages.ts';
import { publisherCovers, type EpisodeInput } from '../episode-input.ts';

export interface TranscribeOutput {
  /** Why Whisper did not run (the publisher's transcript is used), or null when it did. */
  skipped: string | null;
  path: string | null;
  segments: number;
  language: string | null;
  modelId: string | null;
  binding: string | null;
  gpu: boolean;
  /** The GPU this ran on ("cuda:1"), when it did. */
  device?: string | null;
  audioMs: number;
  elapsedMs: number;
  /** The model was already loaded in this worker (kept warm from an earlier job). */
  warm: boolean;
}

/**
 * The model stays loaded in this worker between jobs (loading a large model takes seconds and
 * most of its memory is reused job after job); it is unloaded after EARSHOT_WHISPER_IDLE_MS
 * without work (default 10 minutes) or at once when the machine is short of memory.
 */
interface Warm {
  file: string;
  choice: BindingChoice;
  model: LoadedWhisper;
  idle: NodeJS.Timeout | null;
}
let warm: Warm | null = null;
/** Loads so far in this process: tests read it to prove the model stayed warm. */
export let whisperLoads = 0;

const IDLE_MS = Number(process.env.EARSHOT_WHISPER_IDLE_MS ?? 10 * 60_000);
/** Below this much free memory after a job, the model is unloaded rather than kept warm. */
const LOW_MEMORY_BYTES = 1024 * 1024 * 1024;

async function unload(): Promise<void> {
  const w = warm;
  warm = null;
  if (!w) return;
  if (w.idle) clearTimeout(w.idle);
  await w.model.close();
}

async function modelFor(file: string): Promise<LoadedWhisper> {
  if (warm && warm.file === file) {
    if (warm.idle) clearTimeout(warm.idle);
    warm.idle = null;
    return warm.model;
  }
  await unload();
  const choice = chooseBinding(await detectHardware());
  // This worker's process sees only the GPU it is bound to (CUDA_VISIBLE_DEVICES, set by the
  // engine from its boot data): to the binding it is device 0.
  const model = await loadWhisper(file, choice, 0);
  whisperLoads++;
  warm = { file, choice, model, idle: null };
  return model;
}

function rest(): void {
  if (!warm) return;
  if (os.freemem() < LOW_MEMORY_BYTES) {
    void unload();
    return;
  }
  warm.idle = setTimeout(() => void unload(), IDLE_MS);
  // An idle model never keeps the worker alive on its own.
  warm.idle.unref();
}

/** Threads for whisper.cpp: EARSHOT_WHISPER_THREADS, else every core on the CPU, 4 beside a GPU. */
export function whisperThreads(gpu: boolean, env: NodeJS.ProcessEnv = process.env): number {
  const set = Number(env.EARSHOT_WHISPER_THREADS);
  if (Number.isInteger(set) && set > 0) return set;
  const cores = os.availableParallelism();
  return gpu ? Math.min(4, cores) : cores;
}

/** s16le mono PCM → floats in [-1, 1], as Whisper wants them. */
export function pcmToFloat(buf: Buffer): Float32Array {
  const n = buf.length >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = buf.readInt16LE(i * 2) / 32768;
  return out;
}

/** English-only models (".en") are told the language; others get the feed's, or detect it. */
export function languageFor(modelId: string, feedLanguage: string | null | undefined): string {
  if (isEnglishOnly(modelId)) return 'en';
  return primaryLanguage(feedLanguage) ?? 'auto';
}

export { publisherCovers };

/**
 * Transcribe the episode's decoded audio with the Whisper model chosen when it was queued, on
 * the gpu lane (one job per GPU; on a machine without one, one at a time on the CPU). Writes
 * transcripts/<key>.whisper.json whole, then the step's commit records it.
 */
export async function transcribe(ctx: TypedStepContext<EpisodeInput>): Promise<TranscribeOutput> {
  const input = ctx.input;
  const started = Date.now();
  if (publisherCovers(input, ctx.outputs)) {
    const out: TranscribeOutput = {
      skipped:
        "the publisher's transcript is used (process the episode with --whisper to transcribe it anyway)",
      path: null,
      segments: 0,
      language: null,
      modelId: null,
      binding: null,
      gpu: false,
      audioMs: 0,
      elapsedMs: 0,
      warm: false,
    };
    return out;
  }
  if (!input.whisperModel)
    throw new PermanentStepError(
      'No Whisper model is chosen, so this episode cannot be transcribed. Install one (`earshot models install whisper-base.en`, or the Models screen); the episode goes on by itself.',
    );
  // An English-only model on a show in another language writes nonsense: never given one.
  const wrongLanguage = englishOnlyProblem(input.whisperModel, input.language, input.episodeId);
  if (wrongLanguage) throw new PermanentStepError(wrongLanguage);
  let file: string;
  try {
    file = resolveInstalledModel(ctx.dataDir, input.whisperModel);
  } catch (err) {
    // Missing or changed on disk: retrying will not bring it back; the message says what to do.
    throw new PermanentStepError((err as Error).message);
  }
  const pcm = await pcmFile(ctx);
  const samples = pcmToFloat(fs.readFileSync(pcm));
  let model: LoadedWhisper;
  const wasWarm = warm?.file === file;
  try {
    model = await modelFor(file);
  } catch (err) {
    throw new PermanentStepError(
      `Whisper could not load the model ${input.whisperModel} (${file}): ${clause((err as Error).message)}. Install it again with \`earshot models install ${input.whisperModel}\` or choose another with \`earshot models use\`.`,
    );
  }
  ctx.log.info(
    { model: input.whisperModel, binding: model.binding, gpu: model.gpu, device: ctx.device, warm: wasWarm },
    'whisper model ready',
  );
  ctx.progress(0, { stage: 'transcribe', model: input.whisperModel, binding: model.binding, gpu: model.gpu });
  try {
    const result = await model.transcribe(samples, {
      threads: whisperThreads(model.gpu),
      language: languageFor(input.whisperModel, input.language),
      prompt: input.vocabulary || undefined,
      signal: ctx.signal,
      onProgress: (f) => ctx.progress(f, { stage: 'transcribe' }),
    });
    // Cancelled while the last piece ran: nothing is written for a cancelled episode.
    if (ctx.signal.aborted) throw new TranscriptionAborted(ctx.signal.reason);
    const transcript: Transcript = {
      schemaVersion: 1,
      source: 'whisper',
      format: 'whisper',
      model: input.whisperModel,
      ...(result.language ? { language: result.language } : {}),
      timed: true,
      segments: result.segments.filter((s) => s.text.length > 0),
    };
    const target = path.join(ctx.dataDir, 'transcripts', `${input.key}.whisper.json`);
    writeJsonArtifact(target, transcript);
    // The decoded audio is only Whisper's input: 115 MB an hour is not worth keeping.
    fs.rmSync(pcm, { force: true });
    const out: TranscribeOutput = {
      skipped: null,
      path: target,
      segments: transcript.segments.length,
      language: result.language,
      modelId: input.whisperModel,
      binding: model.binding + (model.variant === 'default' ? '' : `-${model.variant}`),
      gpu: model.gpu,
      device: model.gpu && ctx.device ? `${ctx.device.backend}:${ctx.device.index}` : null,
      audioMs: Math.round((samples.length / 16_000) * 1000),
      elapsedMs: Date.now() - started,
      warm: wasWarm,
    };
    return out;
  } catch (err) {
    if (err instanceof TranscriptionAborted) {
      // A stopped @fugood run may still hold its context: start the next job on a fresh one.
      if (model.binding === 'fugood') void unload();
      throw err;
    }
    // A model that fails to run once will likely fail again on this input: unload it so a retry
    // starts clean.
    await unload();
    throw err;
  } finally {
    rest();
  }
}

/** The decoded audio; decoded again here when it was removed after an earlier transcription. */
async function pcmFile(ctx: TypedStepContext<EpisodeInput>): Promise<string> {
  const decoded = (ctx.outputs.decode as { path?: string } | undefined)?.path;
  if (decoded && fs.existsSync(decoded)) return decoded;
  const audio = (ctx.outputs.download as { path?: string } | undefined)?.path;
  if (!audio || !fs.existsSync(audio))
    throw new PermanentStepError('The downloaded audio is missing; retry the episode from its download.');
  const key = ctx.input.key;
  const target = decoded ?? path.join(ctx.dataDir, 'pcm', `${key}.pcm`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  await decodeToPcm(audio, target, { signal: ctx.signal });
  return target;
}
