/**
 * The decoder process: decodes the first audio stream of a file to 16 kHz mono signed 16-bit PCM
 * with FFmpeg's libraries through node-av. It runs apart from the worker, so a file that crashes
 * the decoder takes down only this process (the episode fails; the worker and the engine go on).
 * Loading FFmpeg takes a second or more, so the process stays up between files: requests come as
 * JSON lines on stdin (`{"input":…,"output":…}`), and for each it writes progress lines
 * (`{"ms":…}`) and then `{"done":true,"bytes":…}` or `{"error":…,"code":1|3}` on stdout
 * (1: could not decode, 3: no audio stream). It exits when stdin closes. Bundled to
 * out/main/decoder.js for the desktop app. `decoder-main INPUT OUTPUT` decodes one file and exits.
 */
import fs from 'node:fs';
import { Decoder, Demuxer, FilterAPI } from 'node-av/api';

/** FFmpeg's filter chain from any audio to what Whisper reads. */
const TO_WHISPER = 'aresample=16000,aformat=sample_fmts=s16:channel_layouts=mono';

const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

class NoAudio extends Error {}

function decode(input: string, output: string): number {
  const demuxer = Demuxer.openSync(input);
  try {
    const stream = demuxer.audio();
    if (!stream) throw new NoAudio('this file has no audio track');
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
        say({ ms });
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
    return bytes;
  } finally {
    demuxer.closeSync();
  }
}

function answer(input: string, output: string): void {
  try {
    say({ done: true, bytes: decode(input, output) });
  } catch (err) {
    say({ error: (err as Error).message.split('\n')[0], code: err instanceof NoAudio ? 3 : 1 });
  }
}

const [input, output] = process.argv.slice(2);
if (input && output) {
  answer(input, output);
} else {
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.trim()) continue;
      const request = JSON.parse(line) as { input: string; output: string };
      answer(request.input, request.output);
    }
  });
  process.stdin.on('end', () => process.exit(0));
}
