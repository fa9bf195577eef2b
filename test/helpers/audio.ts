import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { encoderPath } from './encoder.ts';

const ENCODE: Record<string, string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '64k'],
  m4a: ['-c:a', 'aac', '-b:a', '64k'],
  wav: ['-c:a', 'pcm_s16le'],
  ogg: ['-c:a', 'libvorbis'],
  opus: ['-c:a', 'libopus', '-b:a', '32k'],
  flac: ['-c:a', 'flac'],
};

/**
 * Make a real audio file (a tone) with ffmpeg; for mp4/mkv, a tiny video with an audio track.
 * Tags become the file's metadata. Generated, not committed: real encoders, real containers.
 */
export function makeAudio(dir: string, name: string, seconds = 2, tags: Record<string, string> = {}): string {
  const file = path.join(dir, name);
  const ext = path.extname(name).slice(1);
  const meta = Object.entries(tags).flatMap(([k, v]) => ['-metadata', `${k}=${v}`]);
  const tone = ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`];
  const args =
    ext === 'mp4' || ext === 'mkv'
      ? [
          '-f',
          'lavfi',
          '-i',
          `color=c=black:s=32x32:r=5:d=${seconds}`,
          ...tone,
          '-c:v',
          'mpeg4',
          '-c:a',
          'aac',
          '-shortest',
        ]
      : [...tone, ...(ENCODE[ext] ?? [])];
  fs.mkdirSync(dir, { recursive: true });
  execFileSync(encoderPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args, ...meta, file]);
  return file;
}
