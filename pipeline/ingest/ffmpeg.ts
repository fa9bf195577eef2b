import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { IngestError } from './errors.ts';
import { commitFile } from '../base/artifacts.ts';

/**
 * Which ffmpeg decodes audio. EARSHOT_FFMPEG if set; else the ffmpeg shipped inside the npm
 * package @ffmpeg-installer/ffmpeg (a static build for every desktop platform, so a fresh
 * install always has one); else a system ffmpeg on PATH. See the README for the measurement.
 */
export function ffmpegPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EARSHOT_FFMPEG) return env.EARSHOT_FFMPEG;
  try {
    const bundled = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    // Inside a packaged app the binary lives beside the asar archive, not in it.
    const unpacked = bundled.replace(`app.asar${'/'}`, 'app.asar.unpacked/');
    if (fs.existsSync(unpacked)) return unpacked;
  } catch {
    /* no build for this platform: fall back to the system's */
  }
  const found = spawnSync(process.platform === 'win32' ? 'where' : 'which', ['ffmpeg'], { encoding: 'utf8' });
  const first = found.stdout?.split(/\r?\n/)[0]?.trim();
  if (found.status === 0 && first) return first;
  throw new IngestError(
    'NO_FFMPEG',
    'Earshot could not find ffmpeg to decode audio. Reinstall Earshot, or install ffmpeg and set EARSHOT_FFMPEG to its path.',
  );
}

export interface DecodeResult {
  path: string;
  bytes: number;
  /** Samples at 16 kHz, mono. */
  samples: number;
  durationMs: number;
}

/**
 * Decode any audio (or the audio of a video) to 16 kHz mono signed 16-bit PCM, what Whisper
 * reads, written to `${target}.part` and renamed when complete. Cancelled through `signal`.
 */
export function decodeToPcm(
  input: string,
  target: string,
  options: { signal?: AbortSignal; onProgress?: (ms: number) => void; ffmpeg?: string } = {},
): Promise<DecodeResult> {
  const part = `${target}.part`;
  const args = [
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
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(options.ffmpeg ?? ffmpegPath(), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.stdout.on('data', (d: Buffer) => {
      const m = /out_time_us=(\d+)/.exec(d.toString());
      if (m && options.onProgress) options.onProgress(Number(m[1]) / 1000);
    });
    child.on('error', (err) => {
      fs.rmSync(part, { force: true });
      reject(
        options.signal?.aborted
          ? err
          : new IngestError('DECODE_FAILED', `Could not run ffmpeg: ${err.message}`),
      );
    });
    child.on('close', (code) => {
      if (code !== 0) {
        fs.rmSync(part, { force: true });
        const why = stderr.trim().split('\n').pop() ?? `exit code ${code}`;
        reject(new IngestError('DECODE_FAILED', `This file could not be decoded as audio (${why}).`));
        return;
      }
      const bytes = fs.statSync(part).size;
      if (bytes === 0) {
        fs.rmSync(part, { force: true });
        reject(new IngestError('DECODE_EMPTY', 'This file has no audio track that Earshot can read.'));
        return;
      }
      commitFile(part, target);
      resolve({
        path: target,
        bytes,
        samples: bytes / 2,
        durationMs: Math.round((bytes / 2 / 16000) * 1000),
      });
    });
  });
}
