import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import { IngestError } from './errors.ts';
import { commitFile } from '../base/artifacts.ts';

/**
 * How Earshot decodes audio. By default FFmpeg's own libraries (FFmpeg 8, maintained), shipped
 * prebuilt per platform in node-av's npm packages (@seydx/node-av-<platform>: nothing is
 * downloaded at install), run in a process of their own (decoder-main.ts) with a time limit, so
 * a file that crashes the decoder fails only its episode. A system ffmpeg is the explicit
 * fallback: EARSHOT_FFMPEG=/path/to/ffmpeg. See the README for the measurement.
 */
export type DecoderChoice = { kind: 'node-av' } | { kind: 'ffmpeg'; path: string };

export function chooseDecoder(env: NodeJS.ProcessEnv = process.env): DecoderChoice {
  return env.EARSHOT_FFMPEG ? { kind: 'ffmpeg', path: env.EARSHOT_FFMPEG } : { kind: 'node-av' };
}

/**
 * A system ffmpeg binary: EARSHOT_FFMPEG if set, else the first `ffmpeg` on PATH. Earshot decodes
 * without one; this is for the explicit fallback and for tools (tests, benchmarks).
 */
export function ffmpegPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EARSHOT_FFMPEG) return env.EARSHOT_FFMPEG;
  const found = spawnSync(process.platform === 'win32' ? 'where' : 'which', ['ffmpeg'], { encoding: 'utf8' });
  const first = found.stdout?.split(/\r?\n/)[0]?.trim();
  if (found.status === 0 && first) return first;
  throw new IngestError(
    'NO_FFMPEG',
    'There is no ffmpeg on this system (EARSHOT_FFMPEG is not set and none is on PATH). Earshot decodes without one; install ffmpeg only to use it instead.',
  );
}

export interface DecoderInfo {
  /** What decodes: "FFmpeg (node-av)" or "ffmpeg". */
  name: string;
  /** FFmpeg's version, e.g. "8.1-Jellyfin" or "7.1.1-1+b1". */
  version: string;
  /** The major version, for checks (≥ 6). */
  major: number;
  /** Where it came from, e.g. "npm package @seydx/node-av-linux-x64 6.1.1" or "EARSHOT_FFMPEG". */
  source: string;
  /** The binary or native module on disk. */
  path: string;
}

/** The npm package with this platform's node-av build (MSVC on Windows, as Node and Electron are). */
export function nodeAvPackage(platform = process.platform, arch = process.arch): string {
  return `@seydx/node-av-${platform}-${arch}${platform === 'win32' ? '-msvc' : ''}`;
}

const requireCjs = createRequire(import.meta.url);

/** Which decoder this Earshot uses, its version and where it came from (for `earshot doctor`). */
export async function decoderInfo(env: NodeJS.ProcessEnv = process.env): Promise<DecoderInfo> {
  const choice = chooseDecoder(env);
  if (choice.kind === 'ffmpeg') {
    const r = spawnSync(choice.path, ['-version'], { encoding: 'utf8', timeout: 5000 });
    if (r.status !== 0)
      throw new IngestError(
        'NO_FFMPEG',
        `EARSHOT_FFMPEG is ${choice.path}, which does not run (${r.error?.message ?? `exit ${r.status}`}). Fix the path, or unset it to use the decoder Earshot ships.`,
      );
    const version = /ffmpeg version (\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
    return { name: 'ffmpeg', version, major: majorOf(version), source: 'EARSHOT_FFMPEG', path: choice.path };
  }
  const pkg = nodeAvPackage();
  let file: string;
  let version: string;
  try {
    file = requireCjs.resolve(`${pkg}/node-av.node`);
    const { getFFmpegInfo } = await import('node-av/lib');
    version = getFFmpegInfo().version;
  } catch (err) {
    throw new IngestError(
      'NO_DECODER',
      `The audio decoder for this platform (${pkg}) is not installed or does not load (${(err as Error).message.split('\n')[0]}). Reinstall Earshot, or install ffmpeg and set EARSHOT_FFMPEG to its path.`,
    );
  }
  const pkgVersion = (requireCjs(`${pkg}/package.json`) as { version: string }).version;
  return {
    name: 'FFmpeg (node-av)',
    version,
    major: majorOf(version),
    source: `npm package ${pkg} ${pkgVersion}`,
    path: file.replace(`app.asar${'/'}`, 'app.asar.unpacked/'),
  };
}

function majorOf(version: string): number {
  const m = /^n?(\d+)\./.exec(version);
  return m ? Number(m[1]) : 0;
}

export interface DecodeResult {
  path: string;
  bytes: number;
  /** Samples at 16 kHz, mono. */
  samples: number;
  durationMs: number;
}

export interface DecodeOptions {
  signal?: AbortSignal;
  onProgress?: (ms: number) => void;
  /** A system ffmpeg binary to use instead of the bundled decoder (benchmarks, EARSHOT_FFMPEG). */
  ffmpeg?: string;
  /** Longest a decode may take, in ms. Default EARSHOT_DECODE_TIMEOUT_MS, else 30 minutes. */
  timeoutMs?: number;
  /** Called with the decoder's process as it starts (tests kill it to play a crash). */
  onSpawn?: (child: ChildProcess) => void;
}

export function decodeTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.EARSHOT_DECODE_TIMEOUT_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : 30 * 60_000;
}

/** Where the decoder process's entry is: the bundled one in the app, this folder's otherwise. */
export function decoderEntry(env: NodeJS.ProcessEnv = process.env): string {
  return env.EARSHOT_DECODER_ENTRY || fileURLToPath(new URL('./decoder-main.ts', import.meta.url));
}

/**
 * Decode any audio (or the audio of a video) to 16 kHz mono signed 16-bit PCM, what Whisper
 * reads, written to `${target}.part` and renamed when complete. Runs in a decoder process apart
 * from this one, with a time limit; cancelled through `signal`. A decoder that fails, crashes or
 * runs out of time is an IngestError for this file only.
 */
export async function decodeToPcm(
  input: string,
  target: string,
  options: DecodeOptions = {},
): Promise<DecodeResult> {
  const part = `${target}.part`;
  const ffmpeg = options.ffmpeg ?? (chooseDecoder().kind === 'ffmpeg' ? ffmpegPath() : null);
  const timeoutMs = options.timeoutMs ?? decodeTimeoutMs();
  try {
    if (ffmpeg) await runFfmpeg(ffmpeg, input, part, timeoutMs, options);
    else await runNodeAv(input, part, timeoutMs, options);
  } catch (err) {
    fs.rmSync(part, { force: true });
    throw err;
  }
  const bytes = fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0;
  if (bytes === 0) {
    fs.rmSync(part, { force: true });
    throw new IngestError('DECODE_EMPTY', 'This file has no audio track that Earshot can read.');
  }
  commitFile(part, target);
  return { path: target, bytes, samples: bytes / 2, durationMs: Math.round((bytes / 2 / 16000) * 1000) };
}

function timedOut(timeoutMs: number): IngestError {
  return new IngestError(
    'DECODE_TIMEOUT',
    `Decoding this file took longer than ${Math.round(timeoutMs / 60_000) || '<1'} min, so Earshot stopped it. The file may be damaged; \`earshot retry\` tries again.`,
  );
}

function crashed(why: string): IngestError {
  return new IngestError(
    'DECODE_CRASHED',
    `The decoder crashed on this file (${why}); only this episode is affected. The file is probably damaged.`,
  );
}

/** A system ffmpeg, one process per file (the explicit fallback, and benchmarks). */
function runFfmpeg(
  ffmpeg: string,
  input: string,
  part: string,
  timeoutMs: number,
  options: DecodeOptions,
): Promise<void> {
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-progress', 'pipe:1', '-y', '-i', input];
  args.push('-vn', '-ac', '1', '-ar', '16000', '-f', 's16le', '-acodec', 'pcm_s16le', part);
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    options.onSpawn?.(child);
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const abort = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', abort, { once: true });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.stdout!.on('data', (d: Buffer) => {
      const m = /out_time_us=(\d+)/.exec(d.toString());
      if (m) options.onProgress?.(Number(m[1]) / 1000);
    });
    const done = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
    };
    child.on('error', (err) => {
      done();
      reject(
        options.signal?.aborted
          ? (options.signal.reason as Error)
          : new IngestError('DECODE_FAILED', `Could not run ffmpeg: ${err.message}`),
      );
    });
    child.on('close', (code, signal) => {
      done();
      if (options.signal?.aborted) return reject(options.signal.reason as Error);
      if (late) return reject(timedOut(timeoutMs));
      if (signal || (code !== null && code > 128)) return reject(crashed(signal ?? `exit code ${code}`));
      if (code !== 0) {
        const why = stderr.trim().split('\n').pop() || `exit code ${code}`;
        return reject(new IngestError('DECODE_FAILED', `This file could not be decoded as audio (${why}).`));
      }
      resolve();
    });
  });
}

/**
 * Decoder processes kept warm between files (loading FFmpeg costs a second or more): one per
 * decode in flight, reused when it is done, closed after a while idle. An idle one does not keep
 * this process alive (its pipes are unreferenced), and it exits when this process goes.
 */
interface Warm {
  child: ChildProcess;
  idleTimer: ReturnType<typeof setTimeout> | null;
}
const idle: Warm[] = [];
const IDLE_MS = 60_000;

function refs(child: ChildProcess, on: boolean): void {
  for (const s of [child.stdin, child.stdout, child.stderr] as ({
    ref?: () => void;
    unref?: () => void;
  } | null)[]) {
    if (on) s?.ref?.();
    else s?.unref?.();
  }
  if (on) child.ref();
  else child.unref();
}

function acquire(): Warm {
  const warm = idle.pop();
  if (warm && warm.child.exitCode === null && warm.child.signalCode === null) {
    if (warm.idleTimer) clearTimeout(warm.idleTimer);
    warm.idleTimer = null;
    refs(warm.child, true);
    return warm;
  }
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', decoderEntry()], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Inside Electron (a utility process), execPath is Electron itself: run it as Node.
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    windowsHide: true,
  });
  child.stdin!.on('error', () => undefined);
  return { child, idleTimer: null };
}

function release(warm: Warm): void {
  if (warm.child.exitCode !== null || warm.child.signalCode !== null) return;
  refs(warm.child, false);
  warm.idleTimer = setTimeout(() => {
    const i = idle.indexOf(warm);
    if (i >= 0) idle.splice(i, 1);
    warm.child.stdin?.end();
  }, IDLE_MS);
  warm.idleTimer.unref();
  idle.push(warm);
}

function runNodeAv(input: string, part: string, timeoutMs: number, options: DecodeOptions): Promise<void> {
  const warm = acquire();
  const { child } = warm;
  options.onSpawn?.(child);
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    let settled = false;
    const finish = (err: Error | null, reuse: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onErr);
      child.off('exit', onExit);
      if (reuse) release(warm);
      else child.kill('SIGKILL');
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(timedOut(timeoutMs), false), timeoutMs);
    const abort = () => finish(options.signal!.reason as Error, false);
    if (options.signal?.aborted) return abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    const onErr = (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    };
    const onData = (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let msg: { ms?: number; done?: boolean; error?: string; code?: number };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          continue;
        }
        if (msg.ms !== undefined) options.onProgress?.(msg.ms);
        else if (msg.done) finish(null, true);
        else if (msg.error !== undefined) {
          finish(
            msg.code === 3
              ? new IngestError('DECODE_EMPTY', 'This file has no audio track that Earshot can read.')
              : new IngestError('DECODE_FAILED', `This file could not be decoded as audio (${msg.error}).`),
            true,
          );
        }
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      const last = stderr.trim().split('\n').pop();
      finish(crashed(signal ?? `exit code ${code}${last ? `: ${last}` : ''}`), false);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onErr);
    child.once('exit', onExit);
    child.stdin!.write(`${JSON.stringify({ input, output: part })}\n`);
  });
}
