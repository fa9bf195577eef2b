import type { BindingChoice } from './choose.ts';
import type { LoadedWhisper } from './types.ts';

export type { BindingChoice } from './choose.ts';
export { chooseBinding } from './choose.ts';
export * from './types.ts';

/** Load a whisper.cpp model file into the chosen binding (imported only when needed). */
export async function loadWhisper(
  modelPath: string,
  choice: BindingChoice,
  gpuDevice = 0,
): Promise<LoadedWhisper> {
  const options = { gpu: choice.gpu, gpuDevice, variant: choice.variant };
  if (choice.binding === 'napi-rs') return (await import('./napi.ts')).loadNapi(modelPath, options);
  return (await import('./fugood.ts')).loadFugood(modelPath, options);
}
