/**
 * Decoder benchmark (`npm run bench:decode`): decode the same 10-minute MP3 and M4A to 16 kHz
 * mono PCM with each ffmpeg available — the one shipped in the npm package
 * @ffmpeg-installer/ffmpeg (what every install has) and a system ffmpeg on PATH if present —
 * and print the real-time factor of each. The last line is one JSON object of the figures.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeToPcm } from '../pipeline/ingest/ffmpeg.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 600);
const bundled = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const which = spawnSync('which', ['ffmpeg'], { encoding: 'utf8' });
const system = which.status === 0 ? which.stdout.trim() : null;

const version = (bin: string) =>
  execFileSync(bin, ['-version'], { encoding: 'utf8' }).split('\n')[0]!.split(' ').slice(0, 3).join(' ');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-bench-decode-'));
try {
  // Speech-like test signal: a tone sweep with noise, encoded once by the bundled ffmpeg.
  const src = [
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=220:beep_factor=4:duration=${SECONDS}`,
    '-af',
    'volume=0.5',
  ];
  const mp3 = path.join(tmp, 'talk.mp3');
  const m4a = path.join(tmp, 'talk.m4a');
  execFileSync(bundled, [
    '-hide_banner',
    '-loglevel',
    'error',
    ...src,
    '-c:a',
    'libmp3lame',
    '-b:a',
    '96k',
    mp3,
  ]);
  execFileSync(bundled, ['-hide_banner', '-loglevel', 'error', ...src, '-c:a', 'aac', '-b:a', '96k', m4a]);
  const figures: Record<string, number | string> = { bench: 'decode', audioSeconds: SECONDS };
  for (const [name, bin] of [
    ['bundled', bundled],
    ['system', system],
  ] as const) {
    if (!bin) {
      console.log(`${name}: no ffmpeg found`);
      continue;
    }
    for (const file of [mp3, m4a]) {
      const ext = path.extname(file).slice(1);
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await decodeToPcm(file, path.join(tmp, `out-${name}-${ext}.pcm`), { ffmpeg: bin });
        times.push(performance.now() - t);
      }
      const ms = times.sort((a, b) => a - b)[1]!;
      const rtf = SECONDS / (ms / 1000);
      console.log(
        `${name} (${version(bin)}), ${ext}: ${ms.toFixed(0)} ms for ${SECONDS} s of audio = ${rtf.toFixed(0)}× real time`,
      );
      figures[`${name}_${ext}_ms`] = Math.round(ms);
      figures[`${name}_${ext}_xRealtime`] = Math.round(rtf);
    }
  }
  if (typeof figures.bundled_mp3_ms === 'number' && typeof figures.system_mp3_ms === 'number') {
    figures.ratioBundledVsSystemMp3 = +(figures.bundled_mp3_ms / figures.system_mp3_ms).toFixed(2);
  }
  console.log(JSON.stringify(figures));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
