/**
 * Transcription benchmark (`npm run bench:transcribe`): Earshot's transcription step against
 * whisper.cpp's own command-line tool, in one run, on the same audio, the same model file and the
 * same thread count (issue #4; target: Earshot ≤ 1.10 × the CLI).
 *
 * Earshot's side is what pipeline/steps/transcribe.ts does with a warm model: read the s16le PCM
 * the decode step wrote (made here by the same decodeToPcm), pcmToFloat, model.transcribe() with
 * the binding chooseBinding() picks on this machine. Loading is timed once, apart: the step keeps
 * the model loaded between jobs. The CLI reads a 16 kHz mono WAV of the same samples and runs with
 * `-t THREADS -l en -bs 1`: greedy decoding with the same temperature fallbacks, as Earshot (the
 * CLI's default is a 5-beam search). Its transcription time is its wall time less the load time it
 * reports; its own `total − load time` is printed beside it. Both sides get one untimed call
 * first, then alternate, each round in the opposite order to the last; medians are compared.
 *
 * The machine may be busy with other work, which whisper.cpp feels badly: its threads wait for
 * each other at every step, so one that loses its core stalls the rest. So each timed run waits
 * (up to BENCH_WAIT_QUIET_S, default 20 s) for a second in which other processes use less than
 * QUIET_CORES, reports how many cores they used while it ran (/proc/stat less our own CPU), and
 * the ratio over the quiet runs alone is printed beside the median of all.
 *
 * The baseline CLI: WHISPER_CLI=/path/to/main (or whisper-cli) — whisper.cpp v1.7.2, the version
 * @napi-rs/whisper 0.0.4 vendors, built from whisper.cpp's public source outside this repository
 * (BUILD_HINT). Without it (or with WHISPER_CLI=none), Earshot's side still runs and the baseline
 * is reported as skipped.
 *
 * The model: EARSHOT_BENCH_WHISPER_MODEL=/path/ggml-*.bin, else "empty" models of the sizes in
 * BENCH_MODELS (default tiny.en,base.en; test/helpers/whisper-model.ts: real dimensions, no
 * weights — the full compute of the size, but no text). With the first model, both candidate
 * bindings are also timed against the CLI on the first BENCH_FUGOOD_SECONDS (default 30) of the
 * clip: @napi-rs/whisper as Earshot uses it, and @fugood/whisper.node's CPU build once
 * (BENCH_SKIP_FUGOOD=1 skips the latter; it runs at about real time here).
 *
 * Sizes: BENCH_SECONDS (default 120), BENCH_THREADS (2), BENCH_ROUNDS (5). The last line printed
 * is one JSON object with the figures.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeToPcm } from '../pipeline/ingest/ffmpeg.ts';
import { encoderPath } from '../test/helpers/encoder.ts';
import { pcmToFloat } from '../pipeline/steps/transcribe.ts';
import { planChunks } from '../models/whisper/chunks.ts';
import { detectHardware } from '../models/hardware.ts';
import {
  chooseBinding,
  loadWhisper,
  type BindingChoice,
  type LoadedWhisper,
} from '../models/whisper/index.ts';
import {
  WHISPER_DIMS,
  writeEmptyWhisperModel,
  type WhisperModelSize,
} from '../test/helpers/whisper-model.ts';

const SECONDS = intEnv('BENCH_SECONDS', 120);
const THREADS = intEnv('BENCH_THREADS', 2);
const ROUNDS = intEnv('BENCH_ROUNDS', 5);
const SHORT_SECONDS = Math.min(SECONDS, intEnv('BENCH_FUGOOD_SECONDS', 30));
const SKIP_FUGOOD = process.env.BENCH_SKIP_FUGOOD === '1';
const REAL_MODEL = process.env.EARSHOT_BENCH_WHISPER_MODEL?.trim() || null;
const EMPTY_SIZES = (process.env.BENCH_MODELS ?? 'tiny.en,base.en')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean) as WhisperModelSize[];
const BUILD_HINT =
  'git clone https://github.com/ggml-org/whisper.cpp && cd whisper.cpp && git checkout v1.7.2 && ' +
  'cmake -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON && cmake --build build -j2 --target main';
const TARGET = 1.1;
/** A run during which other processes used less CPU than this (in cores) counts as quiet. */
const QUIET_CORES = 0.25;
/** How long to wait for a quiet moment before each timed run, in seconds; 0 does not wait. */
const WAIT_QUIET_S = intEnv('BENCH_WAIT_QUIET_S', 20, true);
const LANGUAGE = 'en';

/** The installed version of a package, for the labels. */
function versionOf(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return '?';
  }
}

function intEnv(name: string, fallback: number, zeroAllowed = false): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < (zeroAllowed ? 0 : 1))
    throw new Error(
      `${name} should be a ${zeroAllowed ? 'whole number ≥ 0' : 'positive whole number'}, not "${v}"`,
    );
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const spread = (xs: number[]) =>
  `${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)} s`;
const round2 = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const line = (label: string, value: string) => console.log(`   ${label.padEnd(60)} ${value}`);

// ---------------------------------------------------------------------------------------------
// Audio

function ffmpeg(args: string[]): void {
  const r = spawnSync(encoderPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`ffmpeg failed (${r.status}): ${r.stderr || r.error}`);
}

/**
 * A speech-like signal, so that the encoder sees speech-band energy and Earshot's chunker finds
 * quiet spots: a voiced buzz (fundamental wandering over 105–155 Hz, four harmonics) shaped into
 * syllables at an uneven ~4 per second, in 4.5 s phrases with 0.8 s pauses, over faint pink noise.
 * Written as 16 kHz mono s16le WAV.
 */
function makeClip(file: string, seconds: number): void {
  const f0 = '(130+25*sin(2*PI*0.8*t))';
  const voice = [
    [1, 1],
    [0.6, 2],
    [0.4, 3],
    [0.25, 5],
  ].map(([a, h]) => `${a}*sin(${2 * h!}*PI*${f0}*t)`);
  const syllables = 'pow(abs(sin(2*PI*2.1*t+sin(2*PI*0.37*t)))\\,1.5)';
  const phrases = 'lt(mod(t\\,5.3)\\,4.5)';
  ffmpeg([
    ...[
      '-f',
      'lavfi',
      '-i',
      `aevalsrc='0.25*${phrases}*${syllables}*(${voice.join('+')})':s=16000:d=${seconds}`,
    ],
    ...['-f', 'lavfi', '-i', `anoisesrc=c=pink:a=0.02:r=16000:d=${seconds}:seed=7`],
    ...['-filter_complex', 'amix=inputs=2,volume=2', '-ac', '1', '-ar', '16000', '-c:a', 'pcm_s16le', file],
  ]);
}

interface Clip {
  seconds: number;
  /** For the CLI. */
  wav: string;
  /** What Earshot's decode step makes of the same audio. */
  pcm: string;
}

async function clipFiles(dir: string, seconds: number, from?: Clip): Promise<Clip> {
  if (from && from.seconds === seconds) return from;
  const wav = path.join(dir, `clip-${seconds}s.wav`);
  // A shorter clip is the start of the longer one: the same samples.
  if (from) ffmpeg(['-i', from.wav, '-t', String(seconds), '-c:a', 'pcm_s16le', wav]);
  else makeClip(wav, seconds);
  const pcm = path.join(dir, `clip-${seconds}s.pcm`);
  await decodeToPcm(wav, pcm);
  return { seconds, wav, pcm };
}

/**
 * How the napi-rs backend cuts this clip (its planChunks), and how many 30 s encoder windows that
 * costs against one whole call: whisper.cpp pads each call's last window to 30 s, so every cut
 * can add one. Counted as whisper_full() steps when each window advances a full 30 s (so it goes
 * with an empty model; a real one advances to its last timestamp, but pays at each cut alike).
 */
function piecesNote(pcm: string): string {
  const samples = pcmToFloat(fs.readFileSync(pcm));
  const cuts = planChunks(samples);
  const windows = (n: number) => {
    const end = Math.floor(n / 160); // in 10 ms frames, as whisper_full() counts
    let w = 0;
    // whisper_full() stops when less than 1 s is left.
    for (let seek = 0; seek + 100 < end; seek += Math.min(3000, end - seek)) w++;
    return w;
  };
  const lengths = cuts.slice(1).map((c, i) => c - cuts[i]!);
  const pieces = lengths.reduce((sum, n) => sum + windows(n), 0);
  const whole = windows(samples.length);
  const shown = lengths.slice(0, 6).map((n) => (n / 16_000).toFixed(1));
  return (
    `${lengths.length} piece${lengths.length === 1 ? '' : 's'} ` +
    `(${shown.join(', ')}${lengths.length > shown.length ? ', …' : ''} s): ` +
    `${pieces} encoder window${pieces === 1 ? '' : 's'} against ${whole} in one call` +
    (pieces > whole ? ` (+${(((pieces - whole) / whole) * 100).toFixed(1)}%)` : '')
  );
}

// ---------------------------------------------------------------------------------------------
// Other load on the machine

/** USER_HZ, the unit of the times in /proc/stat and /proc/<pid>/stat (100 on Linux). */
const CLK_TCK = 100;

/** CPU seconds this machine has spent busy since boot (/proc/stat); null where there is none. */
function machineBusySec(): number | null {
  try {
    const [user, nice, system, , , irq, softirq, steal] = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / CLK_TCK;
  } catch {
    return null;
  }
}

/** This process's CPU seconds, all its threads (the Whisper thread and its workers included). */
function ownCpuSec(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Cores' worth of CPU that other processes used during a run of `wallMs`. */
function othersCores(busyBefore: number | null, ownSec: number, wallMs: number): number | null {
  const busyAfter = machineBusySec();
  if (busyBefore === null || busyAfter === null) return null;
  return Math.max(0, (busyAfter - busyBefore - ownSec) / (wallMs / 1000));
}

const fmtOthers = (x: number | null) => (x === null ? '' : ` (others ${x.toFixed(2)} cores)`);

/** Time spent waiting for a quiet moment, in all. */
let waitedMs = 0;

/**
 * Before a timed run: wait, up to WAIT_QUIET_S, for a second in which other processes used less
 * than QUIET_CORES (other work here comes in bursts: tests, builds). Then `run`.
 */
async function whenQuiet<T>(run: () => T | Promise<T>): Promise<T> {
  const t = performance.now();
  while (performance.now() - t < WAIT_QUIET_S * 1000) {
    const busy = machineBusySec();
    const cpu = ownCpuSec();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const others = othersCores(busy, ownCpuSec() - cpu, performance.now() - t0);
    if (others === null || others < QUIET_CORES) break;
  }
  waitedMs += performance.now() - t;
  return run();
}

// ---------------------------------------------------------------------------------------------
// The two sides

interface Timed {
  /** The time compared. */
  ms: number;
  /** Cores other processes used meanwhile; null where that cannot be told. */
  others: number | null;
}

interface EarshotRun extends Timed {
  readMs: number;
  convertMs: number;
  transcribeMs: number;
  segments: number;
}

/** The transcription step's own path with the model loaded (pipeline/steps/transcribe.ts). */
async function earshotRun(model: LoadedWhisper, pcm: string): Promise<EarshotRun> {
  const busy = machineBusySec();
  const cpu = ownCpuSec();
  const t0 = performance.now();
  const buf = fs.readFileSync(pcm);
  const t1 = performance.now();
  const samples = pcmToFloat(buf);
  const t2 = performance.now();
  const result = await model.transcribe(samples, { threads: THREADS, language: LANGUAGE });
  const t3 = performance.now();
  return {
    ms: t3 - t0,
    others: othersCores(busy, ownCpuSec() - cpu, t3 - t0),
    readMs: t1 - t0,
    convertMs: t2 - t1,
    transcribeMs: t3 - t2,
    segments: result.segments.filter((s) => s.text.length > 0).length,
  };
}

async function loadTimed(file: string, choice: BindingChoice): Promise<{ model: LoadedWhisper; ms: number }> {
  const t = performance.now();
  const model = await loadWhisper(file, choice);
  return { model, ms: performance.now() - t };
}

interface CliRun extends Timed {
  wallMs: number;
  /** Its own figures (whisper_print_timings; -np would silence them). */
  loadMs: number;
  totalMs: number;
  encodeRuns: number;
  segments: number;
  stderr: string;
}

/**
 * The CLI runs under sh, which prints the CPU time of its waited-for child (cutime + cstime in
 * /proc/$$/stat) once the CLI has exited: the CLI's own CPU, to tell the others' from it.
 */
const CLI_WRAPPER = '"$@"; s=$?; read -r st < /proc/$$/stat; echo "@@stat $st" >&2; exit $s';

function cliArgs(model: string, wav: string): string[] {
  return ['-m', model, '-f', wav, '-t', String(THREADS), '-l', LANGUAGE, '-bs', '1'];
}

/** One CLI process; its time is the wall time less the load time it reports. */
function cliRun(cli: string, model: string, wav: string, extra: string[] = []): CliRun {
  const args = [...cliArgs(model, wav), ...extra];
  const busy = machineBusySec();
  const cpu = ownCpuSec();
  const t = performance.now();
  const r = spawnSync('sh', ['-c', CLI_WRAPPER, 'sh', cli, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = performance.now() - t;
  if (r.status !== 0)
    throw new Error(`${cli} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  const figure = (name: string) => {
    const m = new RegExp(`${name} time =\\s*([\\d.]+) ms`).exec(r.stderr);
    if (!m) throw new Error(`${cli} printed no "${name} time"`);
    return Number(m[1]);
  };
  const stat = /@@stat .*\) (.*)/.exec(r.stderr)?.[1]?.split(' ');
  const childSec = stat ? (Number(stat[13]) + Number(stat[14])) / CLK_TCK : NaN;
  const loadMs = figure('load');
  return {
    ms: wallMs - loadMs,
    others: Number.isFinite(childSec) ? othersCores(busy, childSec + ownCpuSec() - cpu, wallMs) : null,
    wallMs,
    loadMs,
    totalMs: figure('total'),
    encodeRuns: Number(/encode time =.*?\/\s*(\d+) runs/.exec(r.stderr)?.[1] ?? NaN),
    segments: r.stdout.split('\n').filter((l) => /^\[\d[^\]]*\]\s*\S/.test(l)).length,
    stderr: r.stderr,
  };
}

/** The CPU features the CLI's build uses (it prints them on every run). */
function cliFeatures(stderr: string): string {
  const info = /system_info: (.*)/.exec(stderr)?.[1] ?? 'unknown';
  return info
    .split('|')
    .map((s) => s.trim())
    .filter((s) => /^(AVX|AVX2|AVX512|FMA|F16C) /.test(s))
    .join(', ');
}

// ---------------------------------------------------------------------------------------------
// Comparing

interface Comparison {
  earshotMs: number;
  cliMs: number | null;
  /** Median against median, every round: the headline. */
  ratio: number | null;
  /** Median against median over the quiet runs of each side; null when a side had none. */
  quietRatio: number | null;
  quietRuns: [number, number];
  /** Fastest run against fastest run. */
  bestRatio: number | null;
}

function compare(ours: Timed[], theirs: Timed[]): Comparison {
  const earshotMs = median(ours.map((r) => r.ms));
  const quiet = (xs: Timed[]) => xs.filter((r) => r.others !== null && r.others < QUIET_CORES);
  const [qo, qt] = [quiet(ours), quiet(theirs)];
  if (!theirs.length)
    return {
      earshotMs,
      cliMs: null,
      ratio: null,
      quietRatio: null,
      quietRuns: [qo.length, 0],
      bestRatio: null,
    };
  const cliMs = median(theirs.map((r) => r.ms));
  return {
    earshotMs,
    cliMs,
    ratio: round3(earshotMs / cliMs),
    quietRatio:
      qo.length && qt.length ? round3(median(qo.map((r) => r.ms)) / median(qt.map((r) => r.ms))) : null,
    quietRuns: [qo.length, qt.length],
    bestRatio: round3(Math.min(...ours.map((r) => r.ms)) / Math.min(...theirs.map((r) => r.ms))),
  };
}

function printComparison(c: Comparison): void {
  if (c.ratio === null) return;
  line(
    'RATIO Earshot / CLI, medians of all rounds (headline)',
    `${c.ratio.toFixed(3)}   target ≤ ${TARGET.toFixed(2)}: ${c.ratio <= TARGET ? 'met' : 'NOT MET'}`,
  );
  line(
    `   quiet runs only (others < ${QUIET_CORES} cores: ${c.quietRuns[0]} Earshot, ${c.quietRuns[1]} CLI)`,
    c.quietRatio === null ? 'none quiet on one side' : c.quietRatio.toFixed(3),
  );
  line('   fastest run against fastest run', c.bestRatio!.toFixed(3));
}

// ---------------------------------------------------------------------------------------------
// One model

interface ModelFigures {
  model: string;
  earshotLoadMs: number;
  earshotSec: number;
  earshotTranscribeSec: number;
  readMs: number;
  pcmToFloatMs: number;
  realtimeFactor: number;
  segments: number;
  cliSec: number | null;
  cliLoadMs: number | null;
  cliWallSec: number | null;
  cliOwnSec: number | null;
  cliRealtimeFactor: number | null;
  cliEncodeRuns: number | null;
  cliSegments: number | null;
  ratio: number | null;
  ratioQuiet: number | null;
  ratioBest: number | null;
  ratioVsCliOwnTiming: number | null;
  wholeRatio: number | null;
}

interface CandidateFigures {
  seconds: number;
  cliSec: number | null;
  napiSec: number;
  napiRatio: number | null;
  napiRatioQuiet: number | null;
  fugoodLoadMs: number | null;
  fugoodSec: number | null;
  fugoodOthers: number | null;
  fugoodRatio: number | null;
  fugoodRealtimeFactor: number | null;
}

async function benchModel(
  label: string,
  file: string,
  choice: BindingChoice,
  cli: string | null,
  clip: Clip,
  short: Clip | null,
): Promise<{ figures: ModelFigures; candidates: CandidateFigures | null }> {
  console.log(`\n== ${label}, ${clip.seconds} s clip, ${THREADS} threads ==`);
  const { model, ms: loadMs } = await loadTimed(file, choice);
  line('Earshot load (Whisper thread + model; once, then kept warm)', `${loadMs.toFixed(0)} ms`);
  const ours: EarshotRun[] = [];
  const theirs: CliRun[] = [];
  try {
    // One untimed call each (one 30 s window): page cache, first touch of the compute buffers.
    await model.transcribe(new Float32Array(16_000), { threads: THREADS, language: LANGUAGE });
    if (cli) cliRun(cli, file, clip.wav, ['-d', '1000']);
    for (let r = 0; r < ROUNDS; r++) {
      // Each round in the other order, so drift in the machine's load falls on both sides alike.
      const cliFirst = r % 2 === 1;
      let c: CliRun | null = null;
      if (cli && cliFirst) c = await whenQuiet(() => cliRun(cli, file, clip.wav));
      const e = await whenQuiet(() => earshotRun(model, clip.pcm));
      if (cli && !cliFirst) c = await whenQuiet(() => cliRun(cli, file, clip.wav));
      ours.push(e);
      if (c) theirs.push(c);
      console.log(
        `   round ${r + 1}${cliFirst ? ', CLI first' : ''}: Earshot ${sec(e.ms)}${fmtOthers(e.others)}` +
          (c
            ? ` | CLI ${sec(c.ms)} = wall ${sec(c.wallMs)} − load ${c.loadMs.toFixed(0)} ms${fmtOthers(c.others)}` +
              ` | ratio ${(e.ms / c.ms).toFixed(3)}`
            : ''),
      );
    }
    const figures = summarize(label, clip, loadMs, ours, theirs);
    // The candidates need this model loaded: they follow its summary.
    const candidates = short ? await benchCandidates(model, file, cli, short) : null;
    return { figures, candidates };
  } finally {
    await model.close();
  }
}

function summarize(
  label: string,
  clip: Clip,
  loadMs: number,
  ours: EarshotRun[],
  theirs: CliRun[],
): ModelFigures {
  const cmp = compare(ours, theirs);
  const f: ModelFigures = {
    model: label,
    earshotLoadMs: Math.round(loadMs),
    earshotSec: round3(cmp.earshotMs / 1000),
    earshotTranscribeSec: round3(median(ours.map((e) => e.transcribeMs)) / 1000),
    readMs: round2(median(ours.map((e) => e.readMs))),
    pcmToFloatMs: round2(median(ours.map((e) => e.convertMs))),
    realtimeFactor: round2(clip.seconds / (cmp.earshotMs / 1000)),
    segments: ours[0]!.segments,
    cliSec: null,
    cliLoadMs: null,
    cliWallSec: null,
    cliOwnSec: null,
    cliRealtimeFactor: null,
    cliEncodeRuns: null,
    cliSegments: null,
    ratio: cmp.ratio,
    ratioQuiet: cmp.quietRatio,
    ratioBest: cmp.bestRatio,
    ratioVsCliOwnTiming: null,
    wholeRatio: null,
  };
  line(
    'Earshot: read PCM + pcmToFloat + transcribe, median',
    `${sec(cmp.earshotMs)}   spread ${spread(ours.map((e) => e.ms))}   ${f.realtimeFactor.toFixed(1)}x real time`,
  );
  line(
    '   of which read + pcmToFloat; segments with text',
    `${f.readMs.toFixed(1)} ms + ${f.pcmToFloatMs.toFixed(1)} ms; ${f.segments}`,
  );
  if (cmp.cliMs !== null) {
    const ownMs = median(theirs.map((c) => c.totalMs - c.loadMs));
    const wallMs = median(theirs.map((c) => c.wallMs));
    f.cliSec = round3(cmp.cliMs / 1000);
    f.cliLoadMs = Math.round(median(theirs.map((c) => c.loadMs)));
    f.cliWallSec = round3(wallMs / 1000);
    f.cliOwnSec = round3(ownMs / 1000);
    f.cliRealtimeFactor = round2(clip.seconds / (cmp.cliMs / 1000));
    f.cliEncodeRuns = theirs[0]!.encodeRuns;
    f.cliSegments = theirs[0]!.segments;
    f.ratioVsCliOwnTiming = round3(cmp.earshotMs / ownMs);
    f.wholeRatio = round3((loadMs + cmp.earshotMs) / wallMs);
    line(
      'whisper.cpp CLI: wall − load time, median',
      `${sec(cmp.cliMs)}   spread ${spread(theirs.map((c) => c.ms))}   ${f.cliRealtimeFactor.toFixed(1)}x real time`,
    );
    line(
      '   its own total − load time; load; encoder runs; segments',
      `${sec(ownMs)}; ${f.cliLoadMs} ms; ${f.cliEncodeRuns}; ${f.cliSegments}`,
    );
    printComparison(cmp);
    line('   against the CLI’s own total − load time', f.ratioVsCliOwnTiming.toFixed(3));
    line('   whole vs whole (Earshot load + transcription / CLI wall)', f.wholeRatio.toFixed(3));
  }
  return f;
}

/** Both candidate bindings against the CLI on the short clip: napi-rs warm (median), fugood once. */
async function benchCandidates(
  napi: LoadedWhisper,
  file: string,
  cli: string | null,
  short: Clip,
): Promise<CandidateFigures> {
  const ours: Timed[] = [];
  const theirs: Timed[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (cli && r % 2 === 1) theirs.push(await whenQuiet(() => cliRun(cli, file, short.wav)));
    ours.push(await whenQuiet(() => earshotRun(napi, short.pcm)));
    if (cli && r % 2 === 0) theirs.push(await whenQuiet(() => cliRun(cli, file, short.wav)));
  }
  const cmp = compare(ours, theirs);
  const s: CandidateFigures = {
    seconds: short.seconds,
    cliSec: cmp.cliMs === null ? null : round3(cmp.cliMs / 1000),
    napiSec: round3(cmp.earshotMs / 1000),
    napiRatio: cmp.ratio,
    napiRatioQuiet: cmp.quietRatio,
    fugoodLoadMs: null,
    fugoodSec: null,
    fugoodOthers: null,
    fugoodRatio: null,
    fugoodRealtimeFactor: null,
  };
  if (!SKIP_FUGOOD) {
    const fugood = await loadTimed(file, {
      binding: 'fugood',
      variant: 'default',
      gpu: false,
      reason: 'bench',
    });
    try {
      const run = await whenQuiet(() => earshotRun(fugood.model, short.pcm));
      s.fugoodLoadMs = Math.round(fugood.ms);
      s.fugoodSec = round3(run.ms / 1000);
      s.fugoodOthers = run.others === null ? null : round2(run.others);
      s.fugoodRatio = cmp.cliMs === null ? null : round2(run.ms / cmp.cliMs);
      s.fugoodRealtimeFactor = round2(short.seconds / (run.ms / 1000));
    } finally {
      await fugood.model.close();
    }
  }
  const cliRuns = theirs.map((t) => `${sec(t.ms)}${fmtOthers(t.others)}`).join(', ');
  const napiRuns = ours.map((t) => `${sec(t.ms)}${fmtOthers(t.others)}`).join(', ');
  console.log(
    `\n== Candidate bindings, first ${short.seconds} s of the clip, same model, ${THREADS} threads ==`,
  );
  if (s.cliSec !== null)
    line('whisper.cpp CLI, wall − load, median', `${s.cliSec.toFixed(2)} s   [${cliRuns}]`);
  line(
    `@napi-rs/whisper ${versionOf('@napi-rs/whisper')} (Earshot), median`,
    `${s.napiSec.toFixed(2)} s   [${napiRuns}]` +
      (s.napiRatio === null
        ? ''
        : `   ratio ${s.napiRatio.toFixed(3)}, quiet runs ${s.napiRatioQuiet?.toFixed(3) ?? '–'}`),
  );
  if (s.fugoodSec !== null)
    line(
      `@fugood/whisper.node ${versionOf('@fugood/whisper.node')} CPU build, one run`,
      `${s.fugoodSec.toFixed(2)} s${fmtOthers(s.fugoodOthers)}` +
        `${s.fugoodRatio === null ? '' : `   ratio ${s.fugoodRatio.toFixed(1)}`}` +
        `   ${s.fugoodRealtimeFactor!.toFixed(2)}x real time   (load ${s.fugoodLoadMs} ms)`,
    );
  else line('@fugood/whisper.node CPU build', 'skipped (BENCH_SKIP_FUGOOD=1)');
  return s;
}

// ---------------------------------------------------------------------------------------------

function findCli(): { cli: string | null; why: string } {
  const set = process.env.WHISPER_CLI?.trim();
  if (set === 'none') return { cli: null, why: 'WHISPER_CLI=none' };
  if (set) {
    if (!fs.existsSync(set)) throw new Error(`WHISPER_CLI=${set}: no such file`);
    return { cli: set, why: 'WHISPER_CLI' };
  }
  return { cli: null, why: 'WHISPER_CLI is not set' };
}

async function main(tmp: string): Promise<void> {
  const started = performance.now();
  const hw = await detectHardware();
  const choice = chooseBinding(hw);
  const { cli, why } = findCli();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(
    `Transcription benchmark: Node ${process.version}, ${process.platform}/${process.arch}, ${hw.cpu.model} ` +
      `(${hw.cpu.cores} cores, load average ${load}); ${THREADS} threads on both sides, ` +
      `${ROUNDS} rounds alternating, medians compared`,
  );
  console.log(
    `Earshot: binding ${choice.binding}${choice.variant === 'default' ? '' : `-${choice.variant}`}` +
      `${choice.gpu ? ' on the GPU' : ''} (chooseBinding: ${choice.reason})`,
  );

  const models: { label: string; file: string }[] = [];
  if (REAL_MODEL) {
    if (!fs.existsSync(REAL_MODEL))
      throw new Error(`EARSHOT_BENCH_WHISPER_MODEL=${REAL_MODEL}: no such file`);
    models.push({ label: path.basename(REAL_MODEL), file: REAL_MODEL });
    console.log(`Model: ${REAL_MODEL} (EARSHOT_BENCH_WHISPER_MODEL)`);
  } else {
    for (const size of EMPTY_SIZES) {
      if (!(size in WHISPER_DIMS)) throw new Error(`BENCH_MODELS: no model size "${size}"`);
      const file = path.join(tmp, `ggml-${size}-empty.bin`);
      writeEmptyWhisperModel(file, size);
      models.push({ label: `empty ${size}`, file });
    }
    console.log(
      `Model: NO REAL WEIGHTS on this machine: EMPTY ${EMPTY_SIZES.join(' and ')} models (real dimensions, ` +
        `mel filters and vocabulary, no tensors). whisper.cpp runs the full compute of the size but writes no ` +
        `text. Set EARSHOT_BENCH_WHISPER_MODEL=/path/to/ggml-*.bin to time a real model.`,
    );
  }

  const clip = await clipFiles(tmp, SECONDS);
  const short = cli || !SKIP_FUGOOD ? await clipFiles(tmp, SHORT_SECONDS, clip) : null;
  console.log(
    `Audio: ${SECONDS} s speech-like synthetic signal (voiced buzz in syllables and phrases over pink noise), ` +
      `16 kHz mono: WAV for the CLI, the s16le PCM decodeToPcm makes of it for Earshot; language ${LANGUAGE}, no prompt`,
  );
  if (choice.binding === 'napi-rs')
    console.log(`Earshot's napi-rs backend cuts it into ${piecesNote(clip.pcm)}`);
  if (cli) {
    const probe = cliRun(cli, models[0]!.file, clip.wav, ['-d', '1000']);
    console.log(
      `Baseline: ${cli} (${why}) ${cliArgs('MODEL', 'WAV').join(' ')}; its build: ${cliFeatures(probe.stderr)}`,
    );
  } else {
    console.log(
      `\n!!! BASELINE SKIPPED: no whisper.cpp CLI (${why}). Only Earshot's side runs: NO RATIO.\n` +
        `!!! Build whisper.cpp's public source OUTSIDE this repository (never commit it), then point WHISPER_CLI at it:\n` +
        `!!!   ${BUILD_HINT}\n` +
        `!!!   WHISPER_CLI=$PWD/build/bin/main npm run bench:transcribe`,
    );
  }

  const all: ModelFigures[] = [];
  let candidates: CandidateFigures | null = null;
  for (const [i, m] of models.entries()) {
    const r = await benchModel(m.label, m.file, choice, cli, clip, i === 0 ? short : null);
    all.push(r.figures);
    candidates ??= r.candidates;
  }

  const head = all[0]!;
  console.log(
    `\nTotal time ${((performance.now() - started) / 1000).toFixed(1)} s, of which ${(waitedMs / 1000).toFixed(0)} s ` +
      `waiting for quiet moments (up to ${WAIT_QUIET_S} s before each run; BENCH_WAIT_QUIET_S)`,
  );
  console.log(
    JSON.stringify({
      bench: 'transcribe',
      model: head.model,
      realModel: REAL_MODEL !== null,
      binding: choice.binding,
      audioSeconds: SECONDS,
      threads: THREADS,
      rounds: ROUNDS,
      baseline: cli ? `whisper.cpp ${path.basename(cli)}` : 'skipped',
      earshotSec: head.earshotSec,
      earshotLoadMs: head.earshotLoadMs,
      cliSec: head.cliSec,
      cliLoadMs: head.cliLoadMs,
      ratio: head.ratio,
      ratioQuiet: head.ratioQuiet,
      ratioBest: head.ratioBest,
      ratioVsCliOwnTiming: head.ratioVsCliOwnTiming,
      wholeRatio: head.wholeRatio,
      realtimeFactor: head.realtimeFactor,
      cliRealtimeFactor: head.cliRealtimeFactor,
      pcmToFloatMs: head.pcmToFloatMs,
      candidateSeconds: candidates?.seconds ?? null,
      napiRatio: candidates?.napiRatio ?? null,
      fugoodSec: candidates?.fugoodSec ?? null,
      fugoodRatio: candidates?.fugoodRatio ?? null,
      fugoodRealtimeFactor: candidates?.fugoodRealtimeFactor ?? null,
      models: all,
    }),
  );
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-bench-transcribe-'));
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(code);
  });
}
try {
  await main(tmp);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
