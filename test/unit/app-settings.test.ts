/**
 * The settings store (pipeline/store/app-settings.ts) and the API over it (`settings`,
 * `setSettings`, `onSettingsChanged`), and the processing rules that turn them into gpu-lane holds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, readSettings, writeSettings } from '../../pipeline/store/app-settings.ts';
import {
  ON_BATTERY,
  ProcessingRules,
  budgetHold,
  insideHours,
  nightHold,
} from '../../pipeline/engine/rules.ts';
import { ManualClock } from '../../pipeline/engine/clock.ts';
import { Queue } from '../../pipeline/engine/queue.ts';
import { App, openApp, type AppContext } from '../../pipeline/api/app.ts';
import { validated } from '../../pipeline/api/dispatch.ts';
import type { AppSettingsView } from '../../pipeline/api/contract.ts';
import { fixtureWorkflowsModule, freshStore, tempDir } from '../helpers/env.ts';

describe('the settings store', () => {
  it('reads the defaults from an empty library, merges a change into what is stored, and keeps it', () => {
    const { db } = freshStore();
    expect(readSettings(db)).toEqual(DEFAULT_SETTINGS);
    const after = writeSettings(db, { refreshMinutes: 30, processing: { nightOnly: true } }, 1000);
    expect(after.refreshMinutes).toBe(30);
    // Nested objects are merged: what was not named stays.
    expect(after.processing).toEqual({ ...DEFAULT_SETTINGS.processing, nightOnly: true });
    writeSettings(db, { notifications: { failures: false } }, 2000);
    const stored = readSettings(db);
    expect(stored.refreshMinutes).toBe(30);
    expect(stored.processing.nightOnly).toBe(true);
    expect(stored.notifications).toEqual({ processed: true, failures: false });
    const row = db.prepare(`SELECT updated_at FROM settings WHERE key = 'app.settings'`).get() as {
      updated_at: number;
    };
    expect(row.updated_at).toBe(2000);
  });

  it('reads each value that is missing or not valid (another version wrote it) as its default, keeping the rest', () => {
    const { db } = freshStore();
    db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('app.settings', ?, 0)`).run(
      JSON.stringify({
        refreshMinutes: 2,
        appearance: 'purple',
        keepRunningInTray: false,
        processing: { nightStartHour: 25, nightEndHour: 6, gpuHoursPerDay: -1, onBattery: 'continue' },
        watchFolder: '',
      }),
    );
    const s = readSettings(db);
    expect(s.refreshMinutes).toBe(DEFAULT_SETTINGS.refreshMinutes);
    expect(s.appearance).toBe('system');
    expect(s.keepRunningInTray).toBe(false);
    expect(s.processing).toEqual({
      ...DEFAULT_SETTINGS.processing,
      nightEndHour: 6,
      onBattery: 'continue',
    });
    expect(s.watchFolder).toBeNull();
    db.prepare(`UPDATE settings SET value = 'not json' WHERE key = 'app.settings'`).run();
    expect(readSettings(db)).toEqual(DEFAULT_SETTINGS);
  });
});

describe('settings through the API', () => {
  let ctx: AppContext | null = null;
  afterEach(() => {
    ctx?.db.close();
    ctx = null;
  });

  it('shows the data folder, validates a change, tells every shell, and checks the watch folder', async () => {
    const dataDir = tempDir();
    ctx = await openApp(dataDir, { registryModule: fixtureWorkflowsModule });
    const app = validated(new App(ctx));
    const heard: AppSettingsView[] = [];
    app.events.on('onSettingsChanged', (s) => heard.push(s));

    const first = await app.settings();
    expect(first.dataDir).toBe(dataDir);
    expect(first.watchFolder).toBeNull();
    expect(first.gpuUsedTodayMs).toBe(0);

    const changed = await app.setSettings({ appearance: 'dark', processing: { gpuHoursPerDay: 1.5 } });
    expect(changed.appearance).toBe('dark');
    expect(changed.processing.gpuHoursPerDay).toBe(1.5);
    expect(heard.map((s) => s.appearance)).toEqual(['dark']);
    // Read again by another window: the same.
    expect((await app.settings()).appearance).toBe('dark');

    // Refused at the boundary, in words, and nothing stored or told.
    await expect(app.setSettings({ refreshMinutes: 1 })).rejects.toThrow(
      /shortest refresh interval is 5 minutes/,
    );
    await expect(app.setSettings({ appearance: 'blue' as never })).rejects.toThrow(/system, light or dark/);
    await expect(app.setSettings({ processing: { nightStartHour: 24 } })).rejects.toThrow(/0 to 23/);
    await expect(app.setSettings({ colour: 'x' } as never)).rejects.toThrow();
    expect(heard).toHaveLength(1);

    // The watch folder: an existing folder, never inside the library or holding it.
    const mine = tempDir();
    await expect(app.setSettings({ watchFolder: path.join(mine, 'nope') })).rejects.toThrow(
      /There is no folder/,
    );
    fs.writeFileSync(path.join(mine, 'a.txt'), 'x');
    await expect(app.setSettings({ watchFolder: path.join(mine, 'a.txt') })).rejects.toThrow(/is a file/);
    fs.mkdirSync(path.join(dataDir, 'media'), { recursive: true });
    await expect(app.setSettings({ watchFolder: path.join(dataDir, 'media') })).rejects.toThrow(
      /inside Earshot's library folder/,
    );
    await expect(app.setSettings({ watchFolder: path.dirname(dataDir) })).rejects.toThrow(
      /holds Earshot's library/,
    );
    const ok = await app.setSettings({ watchFolder: mine });
    expect(ok.watchFolder).toBe(mine);
    expect((await app.setSettings({ watchFolder: null })).watchFolder).toBeNull();
  });
});

describe('processing rules as gpu-lane holds', () => {
  it('holds on battery unless told to go on, outside the night hours, and past the daily budget; releases each when it no longer applies', () => {
    const { db, registry } = freshStore();
    const dayStart = Date.UTC(2026, 0, 5);
    const clock = new ManualClock(dayStart + 12 * 3_600_000);
    let settings = structuredClone(DEFAULT_SETTINGS) as typeof DEFAULT_SETTINGS;
    let hour = 12;
    const holds = new Set<string>();
    const calls: [string, boolean][] = [];
    const rules = new ProcessingRules({
      db,
      clock,
      settings: () => settings,
      setHold: (_lane, reason, on) => {
        calls.push([reason, on]);
        if (on) holds.add(reason);
        else holds.delete(reason);
      },
      localTime: { hour: () => hour, startOfDay: () => dayStart },
    });
    rules.start();
    expect([...holds]).toEqual([]);

    rules.setOnBattery(true);
    expect([...holds]).toEqual([ON_BATTERY]);
    settings = { ...settings, processing: { ...settings.processing, onBattery: 'continue' } };
    rules.evaluate();
    expect([...holds]).toEqual([]);

    // Only 22:00–07:00: at noon heavy work waits; at 23:00 and at 03:00 it runs.
    settings = { ...settings, processing: { ...settings.processing, nightOnly: true } };
    rules.evaluate();
    expect([...holds]).toEqual([nightHold(settings.processing)]);
    expect([...holds][0]).toMatch(/22:00–07:00/);
    hour = 23;
    rules.evaluate();
    expect([...holds]).toEqual([]);
    hour = 3;
    rules.evaluate();
    expect([...holds]).toEqual([]);

    // A budget of 1 h a day: two gpu jobs of 40 min today use it up (claim to finish, as run).
    settings = { ...settings, processing: { ...settings.processing, nightOnly: false, gpuHoursPerDay: 1 } };
    rules.evaluate();
    expect([...holds]).toEqual([]);
    const q = new Queue(db, registry, clock, { leaseMs: 3_600_000 });
    for (const subject of ['a', 'b']) {
      q.start('gpu-only', subject);
      const job = q.claim('gpu', 'engine:gpu-0', process.pid, 1)!;
      clock.advance(40 * 60_000);
      q.complete(job.jobId, job.fence, null);
    }
    rules.evaluate();
    expect([...holds]).toEqual([budgetHold(1)]);
    // Each change was made once: no hold set twice, none released that was not held.
    const seen = new Set<string>();
    for (const [reason, on] of calls) {
      expect(seen.has(reason)).toBe(!on);
      if (on) seen.add(reason);
      else seen.delete(reason);
    }
    rules.stop();
  });

  it('night windows wrap past midnight', () => {
    expect(insideHours(23, 22, 7)).toBe(true);
    expect(insideHours(6, 22, 7)).toBe(true);
    expect(insideHours(7, 22, 7)).toBe(false);
    expect(insideHours(12, 9, 17)).toBe(true);
    expect(insideHours(17, 9, 17)).toBe(false);
    expect(insideHours(5, 3, 3)).toBe(true);
  });
});
