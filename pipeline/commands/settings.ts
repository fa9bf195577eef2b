import { InvalidArgumentError, type Command } from 'commander';
import type {
  AppSettingsPatch,
  AppSettingsView,
  FeedSettingsPatch,
  FeedSettingsView,
} from '../api/contract.ts';
import { positiveInt, print, when, withApp } from './io.ts';

const feedId = (value: string) => positiveInt(value, 'a feed id (see `earshot feeds`)');

function onOff(value: string): boolean {
  if (/^(on|yes|true)$/i.test(value)) return true;
  if (/^(off|no|false)$/i.test(value)) return false;
  throw new InvalidArgumentError(`"${value}" is not on or off.`);
}

/** A number of minutes, or "default"/"app" for the app's interval (null). */
function minutesOrDefault(value: string): number | 'default' {
  // (commander turns a parser's null into '': "default" is kept as a word until the action.)
  if (/^(default|app|none)$/i.test(value)) return 'default';
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new InvalidArgumentError(`"${value}" is not a whole number of minutes (or "default").`);
  return n;
}

function hour(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 23)
    throw new InvalidArgumentError(`"${value}" is not an hour from 0 to 23.`);
  return n;
}

const onOffText = (b: boolean) => (b ? 'on' : 'off');

function feedSettingsText(s: FeedSettingsView): string {
  const lines = [
    `${s.title ?? s.url} (feed ${s.feedId})`,
    `  address        ${s.url}`,
    `  backlog        ${s.backlog}`,
    `  auto-process   ${onOffText(s.autoProcess)}`,
    `  refresh        ${s.refreshMinutes === null ? `default (every ${s.effectiveRefreshMinutes} min)` : `every ${s.refreshMinutes} min`}`,
    `  whisper        ${s.whisper === 'always' ? 'always (even with a publisher transcript)' : 'auto'}`,
    `  language       ${s.language ?? `the feed's own (${s.feedLanguage ?? 'none declared'})`}`,
  ];
  if (s.failingSince !== null)
    lines.push(`  failing since  ${when(s.failingSince)} (${s.failures} checks): ${s.lastError ?? ''}`);
  return lines.join('\n');
}

function settingsText(s: AppSettingsView): string {
  const p = s.processing;
  return [
    `data folder        ${s.dataDir}`,
    `refresh            every ${s.refreshMinutes} min`,
    `on battery         ${p.onBattery === 'pause' ? 'pause heavy work' : 'go on'}`,
    `night only         ${p.nightOnly ? `on (${p.nightStartHour}:00–${p.nightEndHour}:00)` : 'off'}`,
    `gpu hours a day    ${p.gpuHoursPerDay === null ? 'no limit' : `${p.gpuHoursPerDay} (${Math.round(s.gpuUsedTodayMs / 60_000)} min used today)`}`,
    `start at login     ${onOffText(s.startAtLogin)}`,
    `keep in tray       ${onOffText(s.keepRunningInTray)}`,
    `notify processed   ${onOffText(s.notifications.processed)}`,
    `notify failures    ${onOffText(s.notifications.failures)}`,
    `appearance         ${s.appearance}`,
    `watch folder       ${s.watchFolder ?? 'none'}`,
  ].join('\n');
}

export function registerSettingsCommands(program: Command): void {
  program
    .command('feed-settings')
    .argument('<feed-id>', 'the feed (see `earshot feeds`)', feedId)
    .option('--backlog <policy>', 'older episodes to process: new, all, last:N or since:YYYY-MM-DD')
    .option('--auto-process <on|off>', 'process new episodes as they arrive (off: list them only)', onOff)
    .option('--refresh <minutes>', 'minutes between checks of this feed, or "default"', minutesOrDefault)
    .option('--whisper <auto|always>', 'always: transcribe with Whisper even with a publisher transcript')
    .option('--language <code>', 'the language Whisper is told (en, de, pt-BR), or "feed" for its own')
    .option('--url <address>', 'the feed moved: its new address (checked at once)')
    .description("show or change one podcast's own settings")
    .action(
      async (
        id: number,
        opts: {
          backlog?: string;
          autoProcess?: boolean;
          refresh?: number | 'default';
          whisper?: string;
          language?: string;
          url?: string;
        },
        cmd: Command,
      ) => {
        const patch: FeedSettingsPatch = {
          ...(opts.backlog === undefined ? {} : { backlog: opts.backlog }),
          ...(opts.autoProcess === undefined ? {} : { autoProcess: opts.autoProcess }),
          ...(opts.refresh === undefined
            ? {}
            : { refreshMinutes: opts.refresh === 'default' ? null : opts.refresh }),
          ...(opts.whisper === undefined ? {} : { whisper: opts.whisper as 'auto' | 'always' }),
          ...(opts.language === undefined
            ? {}
            : { language: /^(feed|default|none)$/i.test(opts.language) ? null : opts.language }),
          ...(opts.url === undefined ? {} : { url: opts.url }),
        };
        await withApp(cmd, async (app) => {
          const s =
            Object.keys(patch).length === 0
              ? await app.feedSettings(id)
              : await app.setFeedSettings(id, patch);
          print(cmd, s, () => feedSettingsText(s));
        });
      },
    );

  program
    .command('settings')
    .option('--refresh <minutes>', 'minutes between checks of each feed', (v) => positiveInt(v))
    .option('--on-battery <pause|continue>', 'heavy work on battery power (desktop app)')
    .option('--night-only <on|off>', 'heavy work only in the night hours', onOff)
    .option('--night-start <hour>', 'when the night hours start (0–23)', hour)
    .option('--night-end <hour>', 'when they end (0–23)', hour)
    .option('--gpu-hours <hours>', 'hours of heavy work a day, or "none"', (v) =>
      /^(none|off)$/i.test(v) ? 'none' : Number(v),
    )
    .option('--start-at-login <on|off>', 'start the desktop app when you log in', onOff)
    .option('--keep-in-tray <on|off>', 'closing the window keeps Earshot working from the tray', onOff)
    .option('--notify-processed <on|off>', 'notify when episodes are ready', onOff)
    .option('--notify-failures <on|off>', 'notify when an episode cannot be processed', onOff)
    .option('--appearance <system|light|dark>', "the app's colours")
    .option('--watch-folder <dir>', 'a folder whose new audio files are imported, or "none"')
    .description("show or change the app's settings (the same as the Settings screen)")
    .action(
      async (
        opts: {
          refresh?: number;
          onBattery?: string;
          nightOnly?: boolean;
          nightStart?: number;
          nightEnd?: number;
          gpuHours?: number | 'none';
          startAtLogin?: boolean;
          keepInTray?: boolean;
          notifyProcessed?: boolean;
          notifyFailures?: boolean;
          appearance?: string;
          watchFolder?: string;
        },
        cmd: Command,
      ) => {
        const processing = {
          ...(opts.onBattery === undefined ? {} : { onBattery: opts.onBattery as 'pause' | 'continue' }),
          ...(opts.nightOnly === undefined ? {} : { nightOnly: opts.nightOnly }),
          ...(opts.nightStart === undefined ? {} : { nightStartHour: opts.nightStart }),
          ...(opts.nightEnd === undefined ? {} : { nightEndHour: opts.nightEnd }),
          ...(opts.gpuHours === undefined
            ? {}
            : { gpuHoursPerDay: opts.gpuHours === 'none' ? null : opts.gpuHours }),
        };
        const notifications = {
          ...(opts.notifyProcessed === undefined ? {} : { processed: opts.notifyProcessed }),
          ...(opts.notifyFailures === undefined ? {} : { failures: opts.notifyFailures }),
        };
        const patch: AppSettingsPatch = {
          ...(opts.refresh === undefined ? {} : { refreshMinutes: opts.refresh }),
          ...(Object.keys(processing).length === 0 ? {} : { processing }),
          ...(opts.startAtLogin === undefined ? {} : { startAtLogin: opts.startAtLogin }),
          ...(opts.keepInTray === undefined ? {} : { keepRunningInTray: opts.keepInTray }),
          ...(Object.keys(notifications).length === 0 ? {} : { notifications }),
          ...(opts.appearance === undefined ? {} : { appearance: opts.appearance as 'system' }),
          ...(opts.watchFolder === undefined
            ? {}
            : { watchFolder: /^(none|off)$/i.test(opts.watchFolder) ? null : opts.watchFolder }),
        };
        await withApp(cmd, async (app) => {
          const s = Object.keys(patch).length === 0 ? await app.settings() : await app.setSettings(patch);
          print(cmd, s, () => settingsText(s));
        });
      },
    );
}
