/**
 * Decoder benchmark (`npm run bench:decode`): decode the same 60-minute MP3 and M4A (AAC) to
 * 16 kHz mono PCM with each decoder available, in the same run, alternating rounds:
 *
 * - Earshot's decoder: FFmpeg 8's libraries through node-av (@seydx/node-av-<platform>), in its
 *   own process (decoder-main.ts) — what every install uses;
 * - the baseline: the ffmpeg 4.1 (2018) static build of @ffmpeg-installer/ffmpeg, what Earshot
 *   shipped before (now a dev dependency that only writes test audio);
 * - a system ffmpeg on PATH (or EARSHOT_FFMPEG), if there is one: the explicit fallback.
 *
 * Prints the real-time factor of each, the ratios to the baseline, and what each takes on disk
 * for this platform; the last line is one JSON object of the figures. BENCH_SECONDS shortens it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeToPcm, decoderInfo, nodeAvPackage } from '../pipeline/ingest/ffmpeg.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3600);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const require = createRequire(import.meta.url);
const baseline = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const systemPath =
  process.env.EARSHOT_FFMPEG ??
  (() => {
    const which = spawnSync('which', ['ffmpeg'], { encoding: 'utf8' });
    return which.status === 0 ? which.stdout.trim() : null;
  })();

const version = (bin: string) =>
  /ffmpeg version (\S+)/.exec(execFileSync(bin, ['-version'], { encoding: 'utf8' }))?.[1] ?? '?';

function du(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((sum, f) => sum + du(path.join(p, f)), 0);
}
const MB = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'earshot-bench-decode-'));
try {
  // Speech-like test signal (a beeping tone), encoded once by the baseline ffmpeg: 96 kb/s MP3,
  // and 96 kb/s stereo AAC in MP4, as podcasts are published.
  const src = ['-f', 'lavfi', '-i', `sine=frequency=220:beep_factor=4:duration=${SECONDS}`];
  const mp3 = path.join(tmp, 'talk.mp3');
  const m4a = path.join(tmp, 'talk.m4a');
  const quiet = ['-hide_banner', '-loglevel', 'error'];
  execFileSync(baseline, [...quiet, ...src, '-c:a', 'libmp3lame', '-b:a', '96k', mp3]);
  execFileSync(baseline, [...quiet, ...src, '-ac', '2', '-c:a', 'aac', '-b:a', '96k', m4a]);

  const info = await decoderInfo({});
  const decoders: { name: string; label: string; ffmpeg?: string; bytes: number }[] = [
    {
      name: 'earshot',
      label: `node-av, FFmpeg ${info.version}`,
      bytes: du(path.dirname(require.resolve(`${nodeAvPackage()}/package.json`))),
    },
    {
      name: 'baseline',
      label: `@ffmpeg-installer, ffmpeg ${version(baseline)}`,
      ffmpeg: baseline,
      bytes: du(baseline),
    },
    ...(systemPath
      ? [
          {
            name: 'system',
            label: `system ffmpeg ${version(systemPath)}`,
            ffmpeg: systemPath,
            bytes: du(systemPath),
          },
        ]
      : []),
  ];
  if (!systemPath) console.log('system: no ffmpeg on PATH (skipped)');
  const figures: Record<string, number | string> = {
    bench: 'decode',
    audioSeconds: SECONDS,
    earshotDecoder: `FFmpeg ${info.version}`,
  };
  const times = new Map<string, number[]>();
  const reference = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const file of [mp3, m4a]) {
      const ext = path.extname(file).slice(1);
      // Alternate who goes first, so neither always meets a warm page cache.
      const order = round % 2 === 0 ? decoders : [...decoders].reverse();
      for (const d of order) {
        const out = path.join(tmp, `out-${d.name}-${ext}.pcm`);
        const t = performance.now();
        const r = await decodeToPcm(file, out, d.ffmpeg ? { ffmpeg: d.ffmpeg } : {});
        const key = `${d.name}_${ext}`;
        times.set(key, [...(times.get(key) ?? []), performance.now() - t]);
        // Every decoder must produce the same length of audio (within one frame).
        const ref = reference.get(ext) ?? r.samples;
        reference.set(ext, ref);
        if (Math.abs(r.samples - ref) > 2048)
          throw new Error(`${d.name} decoded ${r.samples} samples of ${ext}, others ${ref}`);
        fs.rmSync(out, { force: true });
      }
    }
  }
  for (const d of decoders) {
    console.log(`${d.name} (${d.label}): ${MB(d.bytes)} on disk for ${process.platform}-${process.arch}`);
    figures[`${d.name}_bytes`] = d.bytes;
    for (const ext of ['mp3', 'm4a']) {
      const sorted = [...times.get(`${d.name}_${ext}`)!].sort((a, b) => a - b);
      const ms = sorted[Math.floor(sorted.length / 2)]!;
      const rtf = SECONDS / (ms / 1000);
      console.log(
        `  ${ext}: ${ms.toFixed(0)} ms for ${SECONDS} s of audio = ${rtf.toFixed(0)}× real time (median of ${ROUNDS})`,
      );
      figures[`${d.name}_${ext}_ms`] = Math.round(ms);
      figures[`${d.name}_${ext}_xRealtime`] = Math.round(rtf);
    }
  }
  for (const ext of ['mp3', 'm4a']) {
    const ratio = (figures[`earshot_${ext}_ms`] as number) / (figures[`baseline_${ext}_ms`] as number);
    figures[`ratioEarshotVsBaseline_${ext}`] = +ratio.toFixed(2);
    console.log(`earshot / baseline time, ${ext}: ${ratio.toFixed(2)}`);
  }
  figures.ratioEarshotVsBaselineBytes = +(
    (figures.earshot_bytes as number) / (figures.baseline_bytes as number)
  ).toFixed(2);
  console.log(JSON.stringify(figures));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
