import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliPath, tempDir } from '../helpers/env.ts';
import { makeAudio } from '../helpers/audio.ts';
import { emptyWhisperFile } from '../helpers/whisper-install.ts';
import { backlogEstimate, recommendLlm } from '../../models/advisor.ts';

function earshot(dataDir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [cliPath, '--data-dir', dataDir, ...args], {
    // Earshot's real pipeline (not the fixture workflows the other CLI tests use).
    env: { ...withoutFixtures(), ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withoutFixtures(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.EARSHOT_WORKFLOWS_MODULE;
  return env;
}

let audio: string;
beforeAll(() => {
  audio = makeAudio(tempDir('earshot-tcli-'), 'interview.mp3', 12, {
    title: 'Interview',
    artist: 'Mara Quinn',
  });
});

describe('transcription from the command line, as a user runs it', () => {
  it('models import + use, import audio, run --until-idle, then transcript in every format', () => {
    const dir = tempDir();
    const imported = earshot(dir, ['--json', 'models', 'import', emptyWhisperFile('tiny.en')]);
    expect(imported.code, imported.stderr).toBe(0);
    const id = JSON.parse(imported.stdout).model.id as string;
    expect(id).toMatch(/^custom-/);
    // Imported with no Whisper model active: it is chosen already.
    expect(JSON.parse(imported.stdout).message).toMatch(/It is now the active whisper model\.$/);
    expect(earshot(dir, ['models', 'use', id]).code).toBe(0);

    const doctor = JSON.parse(earshot(dir, ['--json', 'doctor']).stdout);
    expect(doctor.whisper).toMatchObject({ ok: true, binding: 'napi-rs', gpu: false, model: id });
    expect(doctor.lanes.gpu.uses).toMatch(/Whisper: napi-rs on the CPU/);

    expect(earshot(dir, ['import', audio]).code).toBe(0);
    const before = earshot(dir, ['transcript', '1']);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/has no transcript yet.*earshot process 1/s);

    const run = earshot(dir, ['run', '--until-idle']);
    expect(run.code, run.stderr).toBe(0);
    // It says what it does: a start line, progress (plain lines: not a terminal), the episode
    // with its title, and a summary.
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Earshot is working on .*: 1 episode to process \(workers: gpu 1, /);
    expect(lines).toContainEqual(
      expect.stringMatching(/^\[-+\] +0% {2}0 of 1 episode · downloading Interview — your files 0%$/),
    );
    expect(lines).toContain('✓ Interview — your files');
    expect(lines.at(-1)).toBe('1 episode done.');
    const json = JSON.parse(earshot(dir, ['transcript', '1', '--format', 'json']).stdout);
    expect(json).toMatchObject({ episodeId: 1, source: 'whisper', model: id, language: 'en', timed: true });
    // The empty model writes no words; every format still renders (header only for VTT).
    expect(earshot(dir, ['transcript', '1', '--format', 'vtt']).stdout.startsWith('WEBVTT')).toBe(true);
    expect(earshot(dir, ['transcript', '1', '--format', 'srt']).code).toBe(0);
    expect(earshot(dir, ['transcript', '1']).code).toBe(0);
    const bad = earshot(dir, ['transcript', '1', '--format', 'docx']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Allowed choices are txt, srt, vtt, json/);
  });

  it('models advise measures sizes and estimates the backlog', () => {
    const dir = tempDir();
    expect(earshot(dir, ['import', audio]).code).toBe(0);
    const r = earshot(dir, ['--json', 'models', 'advise'], { EARSHOT_ADVISE_SIZES: 'tiny.en,base.en' });
    expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(r.stdout);
    expect(a.trials.map((t: { size: string }) => t.size)).toEqual(['tiny.en', 'base.en']);
    for (const t of a.trials) expect(t.realtimeFactor).toBeGreaterThan(0);
    // tiny is faster than base: the measurement sees the model size.
    expect(a.trials[0].seconds).toBeLessThan(a.trials[1].seconds);
    expect(['whisper-tiny.en', 'whisper-base.en']).toContain(a.whisper.id);
    expect(a.backlog).toMatchObject({ episodes: 1 });
    expect(a.backlog.text).toMatch(/^1 episode ≈ \d+ min$/);
    expect(a.llm.id).toMatch(/instruct/);
    const human = earshot(dir, ['models', 'advise'], { EARSHOT_ADVISE_SIZES: 'tiny.en' });
    expect(human.stdout).toMatch(/tiny\.en\s+[\d.]+x real time/);
    expect(human.stdout).toMatch(/Install with: earshot models install whisper-tiny\.en/);
  });
});

describe('advice arithmetic', () => {
  it('estimates a backlog in hours, counting unknown lengths as an hour', () => {
    expect(backlogEstimate({ episodes: 212, unknownLength: 0, knownMs: 212 * 45 * 60_000 }, 17.7).text).toBe(
      '212 episodes ≈ 9.0 h',
    );
    expect(backlogEstimate({ episodes: 3, unknownLength: 1, knownMs: 2 * 3_600_000 }, 2)).toMatchObject({
      audioHours: 3,
      estimateHours: 1.5,
      text: '3 episodes ≈ 1.5 h (1 of unknown length counted as 60 min)',
    });
    expect(backlogEstimate({ episodes: 0, unknownLength: 0, knownMs: 0 }, 10).text).toBe(
      'Nothing is waiting to be transcribed.',
    );
  });
  it('chooses the language model by memory', () => {
    const gb = 1024 ** 3;
    expect(recommendLlm({ memory: { totalBytes: 8 * gb, freeBytes: 0 }, gpus: [] }).id).toBe(
      'qwen2.5-1.5b-instruct-q4_k_m',
    );
    expect(recommendLlm({ memory: { totalBytes: 4 * gb, freeBytes: 0 }, gpus: [] }).id).toBe(
      'qwen2.5-0.5b-instruct-q4_k_m',
    );
    expect(
      recommendLlm({
        memory: { totalBytes: 16 * gb, freeBytes: 0 },
        gpus: [{ backend: 'cuda', index: 0, name: 'RTX 4070', vramBytes: 12 * gb }],
      }).id,
    ).toBe('llama-3.2-3b-instruct-q4_k_m');
  });
});
