import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import { IngestError } from './errors.ts';

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
 * reads, written to `${target}.part` and renamed when complete. Runs in a child process with a
 * time limit; cancelled through `signal`. A decoder that fails, crashes or runs out of time is an
 * IngestError for this file only.
 */
export function decodeToPcm(
  input: string,
  target: string,
  options: DecodeOptions = {},
): Promise<DecodeResult> {
  const part = `${target}.part`;
  const ffmpeg = options.ffmpeg ?? (chooseDecoder().kind === 'ffmpeg' ? ffmpegPath() : null);
  const [command, args, env]: [string, string[], NodeJS.ProcessEnv] = ffmpeg
    ? [
        ffmpeg,
        [
          '-nostdin',
          '-hide_banner',
          '-loglevel',
          'error',
          '-progress',
          'pipe:1',
          '-y',
          '-i',
          input,
          '-vn',
          '-ac',
          '1',
          '-ar',
          '16000',
          '-f',
          's16le',
          '-acodec',
          'pcm_s16le',
          part,
        ],
        process.env,
      ]
    : [
        process.execPath,
        ['--disable-warning=ExperimentalWarning', decoderEntry(), input, part],
        // Inside Electron (a utility process), execPath is Electron itself: run it as Node.
        { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      ];
  const name = ffmpeg ? 'ffmpeg' : 'the decoder';
  const timeoutMs = options.timeoutMs ?? decodeTimeoutMs();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env, windowsHide: true });
    options.onSpawn?.(child);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const abort = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', abort, { once: true });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      const m = ffmpeg ? /out_time_us=(\d+)/.exec(text) : /"ms":(\d+)/.exec(text);
      if (m && options.onProgress) options.onProgress(ffmpeg ? Number(m[1]) / 1000 : Number(m[1]));
    });
    const fail = (err: Error) => {
      fs.rmSync(part, { force: true });
      reject(err);
    };
    child.on('error', (err) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      fail(
        options.signal?.aborted
          ? (options.signal.reason as Error)
          : new IngestError('DECODE_FAILED', `Could not run ${name}: ${err.message}`),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      if (options.signal?.aborted) return fail(options.signal.reason as Error);
      if (timedOut) {
        return fail(
          new IngestError(
            'DECODE_TIMEOUT',
            `Decoding this file took longer than ${Math.round(timeoutMs / 60_000) || '<1'} min, so Earshot stopped it. The file may be damaged; \`earshot retry\` tries again.`,
          ),
        );
      }
      if (signal || (code !== null && code > 128)) {
        return fail(
          new IngestError(
            'DECODE_CRASHED',
            `The decoder crashed on this file (${signal ?? `exit code ${code}`}); only this episode is affected. The file is probably damaged.`,
          ),
        );
      }
      if (code === 3)
        return fail(new IngestError('DECODE_EMPTY', 'This file has no audio track that Earshot can read.'));
      if (code !== 0) {
        const why = stderr.trim().split('\n').pop() || `exit code ${code}`;
        return fail(new IngestError('DECODE_FAILED', `This file could not be decoded as audio (${why}).`));
      }
      const bytes = fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0;
      if (bytes === 0) {
        return fail(new IngestError('DECODE_EMPTY', 'This file has no audio track that Earshot can read.'));
      }
      fs.renameSync(part, target);
      resolve({
        path: target,
        bytes,
        samples: bytes / 2,
        durationMs: Math.round((bytes / 2 / 16000) * 1000),
      });
    });
  });
}
