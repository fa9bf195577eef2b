import type { HardwareReport } from '../hardware.ts';
import type { BindingId, BindingVariant } from './types.ts';

export interface BindingChoice {
  binding: BindingId;
  variant: BindingVariant;
  /** Whether the GPU backend of that build is asked for. */
  gpu: boolean;
  /** Why, in words, for `earshot doctor`. */
  reason: string;
}

/**
 * Which whisper.cpp binding this machine uses, by measurement (README, "Choosing the Whisper
 * binding"):
 * - an NVIDIA GPU (Linux or Windows, x64): @fugood/whisper.node's CUDA build;
 * - Apple Silicon: @fugood/whisper.node's macOS build, which runs on Metal;
 * - Linux x64 without a GPU: @napi-rs/whisper, whose CPU build uses AVX — @fugood's linux-x64
 *   CPU build does not and measured several times slower on the same clip;
 * - anything else: @fugood/whisper.node's CPU build (the only prebuilt one there).
 * EARSHOT_WHISPER_BINDING = napi-rs | fugood | fugood-cuda | fugood-vulkan overrides it, and
 * EARSHOT_WHISPER_GPU=0 keeps Whisper off the GPU.
 */
export function chooseBinding(
  hw: Pick<HardwareReport, 'platform' | 'arch' | 'backends'>,
  env: NodeJS.ProcessEnv = process.env,
): BindingChoice {
  const gpuAllowed = env.EARSHOT_WHISPER_GPU !== '0';
  const forced = env.EARSHOT_WHISPER_BINDING?.trim();
  if (forced) {
    const [binding, variant = 'default'] = forced === 'napi-rs' ? ['napi-rs'] : forced.split('-');
    if (binding !== 'napi-rs' && binding !== 'fugood')
      throw new Error(
        `EARSHOT_WHISPER_BINDING="${forced}" is not one of napi-rs, fugood, fugood-cuda, fugood-vulkan.`,
      );
    if (variant !== 'default' && variant !== 'cuda' && variant !== 'vulkan')
      throw new Error(`EARSHOT_WHISPER_BINDING="${forced}": unknown build "${variant}".`);
    return {
      binding,
      variant,
      gpu: gpuAllowed && (variant !== 'default' || hw.backends.metal),
      reason: `EARSHOT_WHISPER_BINDING=${forced}`,
    };
  }
  if (hw.backends.cuda && hw.arch === 'x64' && (hw.platform === 'linux' || hw.platform === 'win32'))
    return gpuAllowed
      ? { binding: 'fugood', variant: 'cuda', gpu: true, reason: 'NVIDIA GPU: the CUDA build' }
      : { binding: 'fugood', variant: 'default', gpu: false, reason: 'EARSHOT_WHISPER_GPU=0: CPU build' };
  if (hw.platform === 'darwin')
    return {
      binding: 'fugood',
      variant: 'default',
      gpu: gpuAllowed && hw.backends.metal,
      reason: hw.backends.metal ? 'Apple Silicon: Metal' : 'Intel Mac: CPU',
    };
  if (hw.platform === 'linux' && hw.arch === 'x64')
    return {
      binding: 'napi-rs',
      variant: 'default',
      gpu: false,
      reason: 'no usable GPU: the fastest CPU build here (AVX)',
    };
  return { binding: 'fugood', variant: 'default', gpu: false, reason: 'no usable GPU: CPU build' };
}
