/**
 * The GPU a gpu-lane worker is bound to: its backend and its index as the driver numbers it.
 * The worker's process sees only that device (see deviceEnv), so both bindings (whisper.cpp's
 * and llama.cpp's) use it as their device 0.
 */
export interface GpuBinding {
  backend: 'cuda' | 'metal' | 'vulkan';
  index: number;
  name: string;
}

/**
 * The environment that binds a worker process to one GPU: CUDA_VISIBLE_DEVICES (CUDA; both
 * whisper.cpp's and llama.cpp's CUDA builds honour it) or GGML_VK_VISIBLE_DEVICES (Vulkan).
 * Metal has one device.
 */
export function deviceEnv(device: GpuBinding | null | undefined): NodeJS.ProcessEnv {
  if (!device) return {};
  const env: NodeJS.ProcessEnv = {};
  if (device.backend === 'cuda') env.CUDA_VISIBLE_DEVICES = String(device.index);
  if (device.backend === 'vulkan') env.GGML_VK_VISIBLE_DEVICES = String(device.index);
  return env;
}
