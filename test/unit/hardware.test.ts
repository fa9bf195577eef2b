import { describe, expect, it } from 'vitest';
import { detectHardware, parseNvidiaSmi, planLanes, type CommandRunner } from '../../models/hardware.ts';

const noTools: CommandRunner = async () => null;

describe('hardware detection', () => {
  it('reads CUDA devices from nvidia-smi', async () => {
    const smi: CommandRunner = async (cmd) =>
      cmd === 'nvidia-smi'
        ? 'NVIDIA H100 80GB HBM3, 81559, 550.54.15\nNVIDIA RTX 4090, 24564, 550.54.15\n'
        : null;
    const hw = await detectHardware(smi, 'linux', 'x64');
    expect(hw.gpus).toEqual([
      {
        backend: 'cuda',
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        vramBytes: 81559 * 1048576,
        driver: '550.54.15',
      },
      { backend: 'cuda', index: 1, name: 'NVIDIA RTX 4090', vramBytes: 24564 * 1048576, driver: '550.54.15' },
    ]);
    expect(hw.backends).toEqual({ metal: false, cuda: true, cpu: true });
    expect(planLanes(hw).gpu).toEqual({
      concurrency: 2,
      uses: 'cuda:0 NVIDIA H100 80GB HBM3, cuda:1 NVIDIA RTX 4090',
    });
  });

  it('uses Metal on Apple Silicon, and the CPU, one job at a time, where there is no GPU', async () => {
    const mac = await detectHardware(noTools, 'darwin', 'arm64');
    expect(mac.backends.metal).toBe(true);
    expect(planLanes(mac).gpu.concurrency).toBe(1);
    const plain = await detectHardware(noTools, 'linux', 'x64');
    expect(plain.gpus).toEqual([]);
    expect(planLanes(plain).gpu).toEqual({
      concurrency: 1,
      uses: expect.stringMatching(/^CPU \(no usable GPU found\)/),
    });
    expect(plain.cpu.cores).toBeGreaterThan(0);
    expect(plain.memory.totalBytes).toBeGreaterThan(plain.memory.freeBytes);
  });

  it('ignores a broken nvidia-smi line instead of inventing a device', () => {
    expect(parseNvidiaSmi('\n  \n')).toEqual([]);
    expect(parseNvidiaSmi('Tesla T4, [N/A], 535.1')[0]).toMatchObject({ name: 'Tesla T4', vramBytes: null });
  });
});
