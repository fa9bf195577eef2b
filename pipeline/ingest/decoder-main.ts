/**
 * The decoder process: `node decoder-main.ts INPUT OUTPUT` decodes the first audio stream of
 * INPUT to 16 kHz mono signed 16-bit PCM in OUTPUT, with FFmpeg's libraries through node-av.
 * It runs alone, so a file that crashes the decoder takes down only this process (the episode
 * fails; the worker and the engine go on). Bundled to out/main/decoder.js for the desktop app.
 *
 * stdout: one JSON line per second of audio or so (`{"ms":…}`), then `{"done":true,"bytes":…}`.
 * stderr: one line saying what went wrong. Exit 0 done, 1 could not decode, 3 no audio stream.
 */
import fs from 'node:fs';
import { Decoder, Demuxer, FilterAPI } from 'node-av/api';

/** FFmpeg's filter chain from any audio to what Whisper reads. */
const TO_WHISPER = 'aresample=16000,aformat=sample_fmts=s16:channel_layouts=mono';

function decode(input: string, output: string): number {
  const demuxer = Demuxer.openSync(input);
  try {
    const stream = demuxer.audio();
    if (!stream) {
      process.stderr.write('this file has no audio track\n');
      return 3;
    }
    const decoder = Decoder.createSync(stream);
    const filter = FilterAPI.create(TO_WHISPER);
    const fd = fs.openSync(output, 'w');
    let bytes = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let reported = 0;
    const flush = () => {
      if (pendingBytes === 0) return;
      fs.writeSync(fd, Buffer.concat(pending, pendingBytes));
      bytes += pendingBytes;
      pending = [];
      pendingBytes = 0;
      const ms = Math.round((bytes / 2 / 16000) * 1000);
      if (ms - reported >= 1000) {
        reported = ms;
        process.stdout.write(`${JSON.stringify({ ms })}\n`);
      }
    };
    try {
      // The synchronous API: one call per frame without a trip through the thread pool (several
      // times faster for audio's many small frames).
      for (const frame of filter.framesSync(decoder.framesSync(demuxer.packetsSync(stream.index)))) {
        if (frame === null) break;
        const pcm = frame.toBuffer();
        frame.free();
        pending.push(pcm);
        pendingBytes += pcm.length;
        if (pendingBytes >= 1 << 20) flush();
      }
      flush();
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
      filter.close();
      decoder.close();
    }
    process.stdout.write(`${JSON.stringify({ done: true, bytes })}\n`);
    return 0;
  } finally {
    demuxer.closeSync();
  }
}

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: decoder-main INPUT OUTPUT\n');
  process.exit(2);
}
try {
  process.exitCode = decode(input, output);
} catch (err) {
  process.stderr.write(`${(err as Error).message.split('\n')[0]}\n`);
  process.exitCode = 1;
}
