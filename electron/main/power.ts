import type { PowerMonitor } from 'electron';

export type PowerSource = 'battery' | 'ac';

export interface PowerWatchOptions {
  /**
   * How often to re-read the power source, in ms. Electron's `on-battery` event fires only on
   * macOS, so Windows and Linux learn of a change from this poll. Default 60000.
   */
  pollMs?: number;
}

/**
 * Calls `onChange` with the current power source at once, then whenever it changes. Returns a
 * function that stops watching.
 */
export function watchPowerSource(
  powerMonitor: Pick<PowerMonitor, 'on' | 'off' | 'isOnBatteryPower'>,
  onChange: (source: PowerSource) => void,
  options: PowerWatchOptions = {},
): () => void {
  let last: PowerSource | null = null;
  const report = (source: PowerSource) => {
    if (source === last) return;
    last = source;
    onChange(source);
  };
  const reread = () => report(powerMonitor.isOnBatteryPower() ? 'battery' : 'ac');
  const onBattery = () => report('battery');
  const onAc = () => report('ac');
  powerMonitor.on('on-battery', onBattery);
  powerMonitor.on('on-ac', onAc);
  powerMonitor.on('resume', reread);
  const poll = setInterval(reread, options.pollMs ?? 60_000);
  poll.unref();
  reread();
  return () => {
    clearInterval(poll);
    powerMonitor.off('on-battery', onBattery);
    powerMonitor.off('on-ac', onAc);
    powerMonitor.off('resume', reread);
  };
}
