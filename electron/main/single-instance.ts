import type { App } from 'electron';

/**
 * One Earshot at a time: two would fight over the library and its workers. Returns false in a
 * second instance (which should quit); the first instance gets `onSecondLaunch` instead.
 */
export function claimSingleInstance(
  app: Pick<App, 'requestSingleInstanceLock' | 'on'>,
  onSecondLaunch: () => void,
): boolean {
  if (!app.requestSingleInstanceLock()) return false;
  app.on('second-instance', () => onSecondLaunch());
  return true;
}
