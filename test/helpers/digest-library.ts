import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, tempDir } from './env.ts';
import { makeAudio } from './audio.ts';
import type { FeedServer } from './feed-server.ts';

/**
 * The multi-show library the digest and export tests build through the real engine: four shows
 * whose episodes carry the publisher's transcripts (test/fixtures/digest and
 * test/fixtures/transcripts), published relative to `now`.
 *
 * This week (the 7 days before `now`):
 *   - "rates": Money Talk "The Fed holds steady" + Morning Brief "Powell keeps rates on hold"
 *   - "mars":  Morning Brief "Perseverance finds a clue" + Starlight "Rocks from Jezero"
 *   - "garden": The Garden Hour "Compost, mildew and bees" (alone)
 * The week before: Money Talk "Housing squeeze" (names the Federal Reserve once) and Starlight
 * "Webb's deepest look" (names NASA).
 */
export const DAY = 86_400_000;

export interface FixtureEpisode {
  show: string;
  guid: string;
  title: string;
  /** Days before `now`. */
  daysAgo: number;
  file: string;
  story: 'rates' | 'mars' | 'garden' | null;
  /** The publisher's chapters (Podcasting 2.0 JSON), seconds. */
  chapters?: { startTime: number; title: string }[];
}

export const SHOWS: Record<string, { title: string; author: string }> = {
  money: { title: 'Money Talk', author: 'Maya Chen' },
  brief: { title: 'Morning Brief', author: 'Dev Shah' },
  starlight: { title: 'Starlight', author: 'Lena Ortiz' },
  garden: { title: 'The Garden Hour', author: 'Lena Ortiz' },
};

export const FIXTURE_EPISODES: FixtureEpisode[] = [
  {
    show: 'money',
    guid: 'mt-fed',
    title: 'The Fed holds steady',
    daysAgo: 2,
    file: 'digest/money-fed.vtt',
    story: 'rates',
  },
  {
    show: 'brief',
    guid: 'mb-fed',
    title: 'Powell keeps rates on hold',
    daysAgo: 3,
    file: 'digest/brief-fed.srt',
    story: 'rates',
  },
  {
    show: 'brief',
    guid: 'mb-mars',
    title: 'Perseverance finds a clue',
    daysAgo: 1,
    file: 'digest/brief-mars.srt',
    story: 'mars',
  },
  {
    show: 'starlight',
    guid: 'sl-jezero',
    title: 'Rocks from Jezero',
    daysAgo: 4,
    file: 'digest/starlight-jezero.vtt',
    story: 'mars',
    chapters: [
      { startTime: 0, title: 'Welcome' },
      { startTime: 15.333, title: 'Cheyava Falls' },
      { startTime: 46.667, title: 'Bringing the rocks home' },
    ],
  },
  {
    show: 'garden',
    guid: 'gh-1',
    title: 'Compost, mildew and bees',
    daysAgo: 5,
    file: 'transcripts/garden-hour.vtt',
    story: 'garden',
  },
  {
    show: 'money',
    guid: 'mt-housing',
    title: 'Housing squeeze',
    daysAgo: 9,
    file: 'digest/money-housing.vtt',
    story: null,
  },
  {
    show: 'starlight',
    guid: 'sl-webb',
    title: "Webb's deepest look",
    daysAgo: 10,
    file: 'digest/starlight-webb.vtt',
    story: null,
  },
];

const fixture = (file: string) => fs.readFileSync(path.join(repoRoot, 'test/fixtures', file));
const mime = (file: string) => (file.endsWith('.srt') ? 'application/srt' : 'text/vtt');

let audio: Buffer | undefined;

/** Serve the four shows on `server` (feeds at /<show>.xml); episodes are published relative to `now`. */
export function routeDigestShows(server: FeedServer, now: number): Record<string, string> {
  audio ??= fs.readFileSync(makeAudio(tempDir('earshot-digest-audio-'), 'tone.mp3', 3));
  const urls: Record<string, string> = {};
  for (const [key, show] of Object.entries(SHOWS)) {
    const items = FIXTURE_EPISODES.filter((e) => e.show === key)
      .map(
        (e) => `<item><guid>${e.guid}</guid><title>${e.title.replace(/'/g, '&apos;')}</title>
          <pubDate>${new Date(now - e.daysAgo * DAY).toUTCString()}</pubDate>
          <description>&lt;p&gt;${e.title.replace(/'/g, '&apos;')}.&lt;/p&gt;</description>
          <enclosure url="/media/${e.guid}.mp3" type="audio/mpeg" length="${audio!.length}"/>
          <podcast:transcript url="/tx/${path.basename(e.file)}" type="${mime(e.file)}" language="en"/>
          ${e.chapters ? `<podcast:chapters url="/chapters/${e.guid}.json" type="application/json+chapters"/>` : ''}</item>`,
      )
      .join('\n');
    server.route(`/${key}.xml`, {
      body: `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"
        xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>${show.title}</title>
        <itunes:author>${show.author}</itunes:author>${items}</channel></rss>`,
    });
    urls[key] = server.url(`/${key}.xml`);
  }
  for (const e of FIXTURE_EPISODES) {
    server.route(`/media/${e.guid}.mp3`, { body: audio, headers: { 'content-type': 'audio/mpeg' } });
    if (e.chapters)
      server.route(`/chapters/${e.guid}.json`, {
        body: JSON.stringify({ version: '1.2.0', chapters: e.chapters }),
        headers: { 'content-type': 'application/json+chapters' },
      });
    server.route(`/tx/${path.basename(e.file)}`, {
      body: fixture(e.file),
      headers: { 'content-type': mime(e.file) },
    });
  }
  return urls;
}
