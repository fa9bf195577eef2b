/**
 * The app's settings, kept in the library (table `settings`, key 'app.settings', one JSON
 * object) so every window, the tray, `earshot serve` and the CLI read the same ones. A value
 * that is missing or not valid (written by an older or newer Earshot) reads as its default.
 * Validation of what a caller asks for is the API's (schemas.ts); this keeps what is stored sane.
 */
import { writeTx, type Db } from './db.ts';

/** The same shapes as the contract's ProcessingRules and Appearance (the store sits below the API). */
export interface ProcessingRules {
  onBattery: 'pause' | 'continue';
  nightOnly: boolean;
  nightStartHour: number;
  nightEndHour: number;
  gpuHoursPerDay: number | null;
}
export type Appearance = 'system' | 'light' | 'dark';

/** A change to the settings (the contract's AppSettingsPatch, already validated). */
export interface SettingsPatch {
  refreshMinutes?: number;
  processing?: Partial<ProcessingRules>;
  startAtLogin?: boolean;
  keepRunningInTray?: boolean;
  notifications?: Partial<{ processed: boolean; failures: boolean }>;
  appearance?: Appearance;
  watchFolder?: string | null;
}

export interface StoredSettings {
  refreshMinutes: number;
  processing: ProcessingRules;
  startAtLogin: boolean;
  keepRunningInTray: boolean;
  notifications: { processed: boolean; failures: boolean };
  appearance: Appearance;
  watchFolder: string | null;
}

/** Minutes between feed checks: at least 5, at most a week. */
export const REFRESH_MINUTES = { min: 5, max: 10_080 } as const;

export const DEFAULT_SETTINGS: StoredSettings = Object.freeze({
  refreshMinutes: 60,
  processing: Object.freeze({
    onBattery: 'pause',
    nightOnly: false,
    nightStartHour: 22,
    nightEndHour: 7,
    gpuHoursPerDay: null,
  }) as ProcessingRules,
  startAtLogin: false,
  keepRunningInTray: true,
  notifications: Object.freeze({ processed: true, failures: true }),
  appearance: 'system',
  watchFolder: null,
}) as StoredSettings;

const KEY = 'app.settings';

const isHour = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 23;

/** What is stored, each value checked and defaulted on its own. */
function sane(raw: unknown): StoredSettings {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const p = (r.processing && typeof r.processing === 'object' ? r.processing : {}) as Record<string, unknown>;
  const n = (r.notifications && typeof r.notifications === 'object' ? r.notifications : {}) as Record<
    string,
    unknown
  >;
  const d = DEFAULT_SETTINGS;
  const bool = (v: unknown, fallback: boolean) => (typeof v === 'boolean' ? v : fallback);
  const minutes = r.refreshMinutes;
  const budget = p.gpuHoursPerDay;
  return {
    refreshMinutes:
      typeof minutes === 'number' &&
      Number.isFinite(minutes) &&
      minutes >= REFRESH_MINUTES.min &&
      minutes <= REFRESH_MINUTES.max
        ? minutes
        : d.refreshMinutes,
    processing: {
      onBattery: p.onBattery === 'continue' ? 'continue' : 'pause',
      nightOnly: bool(p.nightOnly, d.processing.nightOnly),
      nightStartHour: isHour(p.nightStartHour) ? p.nightStartHour : d.processing.nightStartHour,
      nightEndHour: isHour(p.nightEndHour) ? p.nightEndHour : d.processing.nightEndHour,
      gpuHoursPerDay:
        typeof budget === 'number' && Number.isFinite(budget) && budget > 0 && budget <= 24 ? budget : null,
    },
    startAtLogin: bool(r.startAtLogin, d.startAtLogin),
    keepRunningInTray: bool(r.keepRunningInTray, d.keepRunningInTray),
    notifications: {
      processed: bool(n.processed, d.notifications.processed),
      failures: bool(n.failures, d.notifications.failures),
    },
    appearance: r.appearance === 'light' || r.appearance === 'dark' ? r.appearance : 'system',
    watchFolder: typeof r.watchFolder === 'string' && r.watchFolder !== '' ? r.watchFolder : null,
  };
}

export function readSettings(db: Db): StoredSettings {
  const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(KEY) as
    { value: string } | undefined;
  if (!row) return sane(null);
  try {
    return sane(JSON.parse(row.value));
  } catch {
    return sane(null);
  }
}

/** Apply a change (nested objects merged) and store the result; returns it. One transaction. */
export function writeSettings(db: Db, patch: SettingsPatch, now: number): StoredSettings {
  return writeTx(db, 'saving the settings', () => {
    const before = readSettings(db);
    const next = sane({
      ...before,
      ...patch,
      processing: { ...before.processing, ...patch.processing },
      notifications: { ...before.notifications, ...patch.notifications },
    });
    db.prepare(
      `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ).run(KEY, JSON.stringify(next), now);
    return next;
  });
}
