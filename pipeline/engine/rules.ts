/**
 * The processing rules of Settings (on battery, only at night, a daily budget of heavy work) as
 * live holds on the gpu lane (README, "Pauses"): the rules say when heavy work may start, the
 * holds make every engine on the library obey, and the user's own pause stays apart. Running
 * jobs finish; nothing new is claimed while a rule holds.
 */
import type { Db } from '../store/db.ts';
import type { StoredSettings } from '../store/app-settings.ts';
import type { Clock } from './clock.ts';
import type { Lane } from './workflow.ts';

/** The hold the power source puts on the gpu lane while the machine runs on battery. */
export const ON_BATTERY = 'on battery';

/** The local hour of a time, and the start of its local day (overridable for tests). */
export interface LocalTime {
  hour(ms: number): number;
  startOfDay(ms: number): number;
}

export const systemLocalTime: LocalTime = {
  hour: (ms) => new Date(ms).getHours(),
  startOfDay: (ms) => {
    const d = new Date(ms);
    d.setHours(0, 0, 0, 0);
    return d.getTime();
  },
};

const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

/** Whether `hour` is inside the window [start, end), which may wrap past midnight (22 → 7). */
export function insideHours(hour: number, start: number, end: number): boolean {
  if (start === end) return true;
  return start < end ? hour >= start && hour < end : hour >= start || hour < end;
}

export function nightHold(p: StoredSettings['processing']): string {
  return `outside the hours set for heavy work (${hh(p.nightStartHour)}–${hh(p.nightEndHour)})`;
}

export function budgetHold(hours: number): string {
  return `today's ${hours} h of heavy work used (it goes on after midnight)`;
}

/**
 * Milliseconds the gpu lane worked between `from` and `now`: its jobs' claim-to-finish spans
 * (a running one up to now), clipped to the window. Every engine's jobs count: the budget is
 * the machine's.
 */
export function gpuUsedMs(db: Db, from: number, now: number): number {
  const row = db
    .prepare(
      `SELECT coalesce(sum(min(coalesce(finished_at, ?), ?) - max(claimed_at, ?)), 0) AS ms FROM jobs
        WHERE lane = 'gpu' AND claimed_at IS NOT NULL AND claimed_at < ?
          AND (finished_at IS NULL AND state = 'running' OR finished_at > ?)`,
    )
    .get(now, now, from, now, from) as { ms: number };
  return Math.max(0, row.ms);
}

export interface ProcessingRulesOptions {
  db: Db;
  clock: Clock;
  /** The settings now (read at every evaluation: another process may have changed them). */
  settings: () => StoredSettings;
  /** Hold or release a lane for a reason (App.setHold: stored as a lease, told to every shell). */
  setHold: (lane: Lane, reason: string, on: boolean) => void;
  localTime?: LocalTime;
  /** How often the rules are looked at again (the hour, the budget), in ms. Default 60000. */
  everyMs?: number;
  onError?: (err: Error) => void;
}

/**
 * Evaluates the rules and keeps the holds they call for, no more, no less: at start, every
 * `everyMs`, when the settings change and when the power source does.
 */
export class ProcessingRules {
  private readonly options: ProcessingRulesOptions;
  private readonly local: LocalTime;
  private onBattery = false;
  private readonly applied = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(options: ProcessingRulesOptions) {
    this.options = options;
    this.local = options.localTime ?? systemLocalTime;
  }

  /** The gpu-lane holds the rules call for now. */
  wanted(): string[] {
    const s = this.options.settings().processing;
    const now = this.options.clock.now();
    const out: string[] = [];
    if (this.onBattery && s.onBattery === 'pause') out.push(ON_BATTERY);
    if (s.nightOnly && !insideHours(this.local.hour(now), s.nightStartHour, s.nightEndHour))
      out.push(nightHold(s));
    if (
      s.gpuHoursPerDay !== null &&
      gpuUsedMs(this.options.db, this.local.startOfDay(now), now) >= s.gpuHoursPerDay * 3_600_000
    )
      out.push(budgetHold(s.gpuHoursPerDay));
    return out;
  }

  /** Look at the rules now and hold or release the gpu lane to match. */
  evaluate(): void {
    try {
      const want = new Set(this.wanted());
      for (const reason of [...this.applied])
        if (!want.has(reason)) {
          this.options.setHold('gpu', reason, false);
          this.applied.delete(reason);
        }
      for (const reason of want)
        if (!this.applied.has(reason)) {
          this.options.setHold('gpu', reason, true);
          this.applied.add(reason);
        }
    } catch (err) {
      this.options.onError?.(err as Error);
    }
  }

  /** The desktop app's power source changed (or was read at start). */
  setOnBattery(onBattery: boolean): void {
    this.onBattery = onBattery;
    this.evaluate();
  }

  start(): void {
    this.evaluate();
    this.timer ??= setInterval(() => this.evaluate(), this.options.everyMs ?? 60_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
