import { createRequire } from 'node:module';

/**
 * An ffmpeg command-line binary to make test audio with (encoders, containers, a tiny video).
 * Earshot itself decodes with node-av; this one only writes fixtures: the old static build in the
 * dev dependency @ffmpeg-installer/ffmpeg (the baseline bench:decode compares against), or
 * EARSHOT_TEST_FFMPEG. It never decodes anything Earshot downloads.
 */
export function encoderPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EARSHOT_TEST_FFMPEG) return env.EARSHOT_TEST_FFMPEG;
  return (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}
