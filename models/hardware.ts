import os from 'node:os';
import { execFile } from 'node:child_process';

export interface GpuDevice {
  backend: 'cuda' | 'metal';
  index: number;
  name: string;
  /** Total memory in bytes, when the driver reports it (Metal shares system memory: null). */
  vramBytes: number | null;
  driver?: string;
}

export interface HardwareReport {
  platform: NodeJS.Platform;
  arch: string;
  osRelease: string;
  cpu: { model: string; cores: number };
  memory: { totalBytes: number; freeBytes: number };
  gpus: GpuDevice[];
  /** GPU backends the whisper and llama bindings can use here; the CPU always works. */
  backends: { metal: boolean; cuda: boolean; cpu: true };
  /** Problems met while looking (a driver tool that failed), for `earshot doctor`. */
  notes: string[];
}

/** Runs a command and returns its stdout, or null when it is absent or fails. Injected in tests. */
export type CommandRunner = (cmd: string, args: string[]) => Promise<string | null>;

export const runCommand: CommandRunner = (cmd, args) =>
  new Promise((resolve) => {
    execFile(cmd, args, { timeout: 5000, windowsHide: true }, (err, stdout) => resolve(err ? null : stdout));
  });

/** nvidia-smi's CSV (name, memory.total in MiB, driver_version) → devices. */
export function parseNvidiaSmi(csv: string): GpuDevice[] {
  return csv
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .flatMap((line, index) => {
      const [name, mib, driver] = line.split(',').map((x) => x.trim());
      if (!name) return [];
      const mem = Number(mib);
      return [
        {
          backend: 'cuda' as const,
          index,
          name,
          vramBytes: Number.isFinite(mem) ? mem * 1024 * 1024 : null,
          ...(driver ? { driver } : {}),
        },
      ];
    });
}

/**
 * What this machine offers Earshot: CPU, memory, and the GPUs the bindings can use — Metal on
 * Apple Silicon, CUDA where nvidia-smi lists devices. Never throws: a missing tool means "none".
 */
export async function detectHardware(
  run: CommandRunner = runCommand,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): Promise<HardwareReport> {
  const notes: string[] = [];
  const gpus: GpuDevice[] = [];
  if (platform === 'darwin' && arch === 'arm64') {
    gpus.push({ backend: 'metal', index: 0, name: os.cpus()[0]?.model ?? 'Apple GPU', vramBytes: null });
  }
  if (platform === 'linux' || platform === 'win32') {
    const out = await run('nvidia-smi', [
      '--query-gpu=name,memory.total,driver_version',
      '--format=csv,noheader,nounits',
    ]);
    if (out !== null) {
      const cuda = parseNvidiaSmi(out);
      if (cuda.length === 0) notes.push('nvidia-smi ran but listed no GPU.');
      gpus.push(...cuda);
    }
  }
  return {
    platform,
    arch,
    osRelease: os.release(),
    cpu: { model: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism() },
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
    gpus,
    backends: {
      metal: gpus.some((g) => g.backend === 'metal'),
      cuda: gpus.some((g) => g.backend === 'cuda'),
      cpu: true,
    },
    notes,
  };
}

export interface LanePlan {
  gpu: { concurrency: number; uses: string };
  cpu: { concurrency: number; uses: string };
  io: { concurrency: number; uses: string };
}

/**
 * How the lanes map onto this machine: one gpu-lane job per GPU device (Metal or CUDA), or one
 * at a time on the CPU when there is none; CPU work gets half the cores.
 */
export function planLanes(hw: HardwareReport): LanePlan {
  const devices = hw.gpus;
  const gpu = devices.length
    ? {
        concurrency: devices.length,
        uses: devices.map((d) => `${d.backend}:${d.index} ${d.name}`).join(', '),
      }
    : { concurrency: 1, uses: 'CPU (no usable GPU found): Whisper runs one job at a time on the processor' };
  const cpuWorkers = Math.max(1, Math.floor(hw.cpu.cores / 2));
  return {
    gpu,
    cpu: { concurrency: cpuWorkers, uses: `${cpuWorkers} of ${hw.cpu.cores} cores (${hw.cpu.model})` },
    io: { concurrency: 4, uses: 'network and disk' },
  };
}
