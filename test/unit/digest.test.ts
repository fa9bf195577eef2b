import { afterEach, describe, expect, it } from 'vitest';
import { averageLinkage } from '../../pipeline/digest/cluster.ts';
import { insightScore } from '../../pipeline/digest/build.ts';
import { digestWindow } from '../../pipeline/digest/window.ts';
import { renderDigestHtml, renderDigestMarkdown } from '../../pipeline/digest/render.ts';
import { digestSchema } from '../../pipeline/digest/schema.ts';
import { pickPlaylist, stretchFor, type Timeline } from '../../pipeline/digest/playlist.ts';
import { dueWindow, startDueDigest } from '../../pipeline/digest/schedule.ts';
import { recordDigest, saveDigestSettings } from '../../pipeline/digest/store.ts';
import { transcriptText } from '../../pipeline/understand/text.ts';
import { openDatabase, databasePath, type Db } from '../../pipeline/store/index.ts';
import { Queue } from '../../pipeline/engine/queue.ts';
import { ManualClock } from '../../pipeline/engine/clock.ts';
import { Registry } from '../../pipeline/engine/workflow.ts';
import { digestWorkflow, episodeWorkflow } from '../../pipeline/workflows.ts';
import type { DigestInsightView, DigestView } from '../../pipeline/api/contract.ts';
import { tempDir } from '../helpers/env.ts';

const DAY = 86_400_000;

/** Textbook UPGMA: merge the most similar pair of clusters (mean over member pairs) while ≥ threshold. */
function naiveUpgma(sim: Float32Array, n: number, threshold: number): number[][] {
  let clusters = Array.from({ length: n }, (_, i) => [i]);
  for (;;) {
    let best = -Infinity;
    let pair: [number, number] | null = null;
    for (let a = 0; a < clusters.length; a++)
      for (let b = a + 1; b < clusters.length; b++) {
        let s = 0;
        for (const i of clusters[a]!) for (const j of clusters[b]!) s += sim[i * n + j]!;
        s /= clusters[a]!.length * clusters[b]!.length;
        if (s > best) {
          best = s;
          pair = [a, b];
        }
      }
    if (!pair || best < threshold) break;
    const [a, b] = pair;
    clusters = [...clusters.filter((_, k) => k !== a && k !== b), [...clusters[a]!, ...clusters[b]!]];
  }
  return clusters.map((c) => c.sort((x, y) => x - y));
}

const canonical = (p: number[][]) => p.map((c) => c.join(',')).sort();

/** A seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('average-linkage clustering', () => {
  it('gives the same clusters as the textbook algorithm, cut at the threshold', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = rng(seed);
      const n = 5 + Math.floor(random() * 30);
      // Points around a few centres, so there are real groups; similarity = 1 - distance.
      const centres = Array.from({ length: 4 }, () => [random() * 4, random() * 4]);
      const points = Array.from({ length: n }, () => {
        const c = centres[Math.floor(random() * centres.length)]!;
        return [c[0]! + random() - 0.5, c[1]! + random() - 0.5];
      });
      const sim = new Float32Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          sim[i * n + j] = 1 - Math.hypot(points[i]![0]! - points[j]![0]!, points[i]![1]! - points[j]![1]!);
      const threshold = -0.5 + random() * 1.2;
      const expected = naiveUpgma(sim.slice(), n, threshold);
      expect(canonical(averageLinkage(sim.slice(), n, threshold)), `seed ${seed}`).toEqual(
        canonical(expected),
      );
    }
  });

  it('keeps apart what is below the threshold, even when chained through a middle item', () => {
    // a~b 0.9, b~c 0.6, a~c 0.1: single linkage would chain all three; average linkage at 0.4
    // merges a and b, then (a,b)~c is (0.6 + 0.1) / 2 = 0.35 < 0.4.
    const sim = Float32Array.from([1, 0.9, 0.1, 0.9, 1, 0.6, 0.1, 0.6, 1]);
    expect(canonical(averageLinkage(sim, 3, 0.4))).toEqual(['0,1', '2']);
    expect(
      canonical(averageLinkage(Float32Array.from([1, 0.9, 0.1, 0.9, 1, 0.6, 0.1, 0.6, 1]), 3, 0.3)),
    ).toEqual(['0,1,2']);
    expect(averageLinkage(new Float32Array(0), 0, 0.5)).toEqual([]);
    expect(averageLinkage(Float32Array.from([1]), 1, 0.5)).toEqual([[0]]);
  });
});

describe('the digest window', () => {
  const now = Date.UTC(2026, 2, 10, 12);
  it('ends now by default, or runs between dates; budgets and durations need a unit', () => {
    expect(digestWindow({}, now)).toEqual({ from: now - 7 * DAY, to: now, budgetMs: 30 * 60_000 });
    expect(digestWindow({ since: '2w', budget: '1h30m' }, now)).toEqual({
      from: now - 14 * DAY,
      to: now,
      budgetMs: 90 * 60_000,
    });
    // A bare end date includes that whole day.
    expect(digestWindow({ from: '2026-03-01', to: '2026-03-07' }, now)).toMatchObject({
      from: Date.UTC(2026, 2, 1),
      to: Date.UTC(2026, 2, 8),
    });
    expect(digestWindow({ to: '2026-03-07' }, now).from).toBe(Date.UTC(2026, 2, 1));
    expect(() => digestWindow({ since: '30' }, now)).toThrow(/with a unit/);
    expect(() => digestWindow({ budget: 'soon' }, now)).toThrow(/not a listening time/);
    expect(() => digestWindow({ since: '400d' }, now)).toThrow(/at most a year/);
    expect(() => digestWindow({ from: 'someday' }, now)).toThrow(/YYYY-MM-DD/);
  });
});

const insight = (
  over: Partial<DigestInsightView> & { quote: DigestInsightView['quote'] },
): DigestInsightView => ({
  episodeId: 1,
  insightId: 'i1',
  type: 'claim',
  text: 'Something worth hearing.',
  ...over,
});

function sampleDigest(title: string, quote: string): DigestView {
  return {
    schemaVersion: 1,
    id: null,
    generatedAt: Date.UTC(2026, 2, 9),
    window: { from: Date.UTC(2026, 2, 2), to: Date.UTC(2026, 2, 9) },
    previousWindow: { from: Date.UTC(2026, 1, 23), to: Date.UTC(2026, 2, 2) },
    grouping: { by: 'keywords', modelId: null },
    counts: { episodes: 1, understood: 1, shows: 1 },
    stories: [
      {
        id: 's1',
        title,
        episodes: [
          {
            episodeId: 1,
            title,
            feedId: 1,
            feedTitle: 'Show & <Tell>',
            publishedAt: Date.UTC(2026, 2, 3),
            durationMs: null,
          },
        ],
        shows: 1,
        insights: [
          insight({
            text: quote,
            quote: { text: quote, charStart: 0, charEnd: quote.length, startMs: 65_000, endMs: 70_000 },
          }),
        ],
        entities: [{ entityId: 1, name: '<b>Bold</b>', type: 'person', episodes: 1 }],
      },
    ],
    rising: { people: [], topics: [] },
    playlist: {
      budgetMs: 60_000,
      totalMs: 30_000,
      items: [
        {
          episodeId: 1,
          episodeTitle: title,
          feedTitle: null,
          storyId: 's1',
          kind: 'segment',
          title: quote,
          startMs: 60_000,
          endMs: 90_000,
        },
      ],
    },
    notes: [],
  };
}

describe('rendering a digest', () => {
  it('escapes everything that comes from a feed or a transcript in HTML', () => {
    const evil = `<script>alert("x")</script><img src=x onerror='y'>`;
    const html = renderDigestHtml(sampleDigest(evil, `He said "<b>" & left`));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('Show &amp; &lt;Tell&gt;');
    expect(html).toContain('He said &quot;&lt;b&gt;&quot; &amp; left');
    // Only Earshot's own tags are in the page.
    const tags = new Set([...html.matchAll(/<\/?([a-z0-9]+)/gi)].map((m) => m[1]!.toLowerCase()));
    expect([...tags].sort()).toEqual(
      [
        'blockquote',
        'body',
        'br',
        'h1',
        'h2',
        'h3',
        'head',
        'html',
        'li',
        'meta',
        'ol',
        'p',
        'section',
        'span',
        'strong',
        'style',
        'title',
        'ul',
      ].sort(),
    );
  });

  it('writes Markdown whose markup comes only from Earshot', () => {
    const md = renderDigestMarkdown(sampleDigest('Rates *up* [again]', 'Buy <now> #1 _fast_'));
    expect(md).toContain('### 1. Rates \\*up\\* \\[again\\]');
    expect(md).toContain('> “Buy \\<now\\> \\#1 \\_fast\\_”');
    expect(md).toContain('1:05');
    expect(md).toMatch(/## Listen in 1 min/);
  });

  it('the schema refuses a playlist longer than its listening time, and unknown fields', () => {
    const d = sampleDigest('x', 'y');
    expect(digestSchema.safeParse(d).success).toBe(true);
    expect(digestSchema.safeParse({ ...d, playlist: { ...d.playlist, totalMs: 61_000 } }).success).toBe(
      false,
    );
    expect(digestSchema.safeParse({ ...d, extra: 1 }).success).toBe(false);
    expect(digestSchema.safeParse({ ...d, schemaVersion: 2 }).success).toBe(false);
  });
});

describe("an insight's worth to a reader", () => {
  const story = ['mars sample return', 'nasa', 'sample'];
  const hosts = ['lena ortiz', 'lena'];
  const score = (type: DigestInsightView['type'], text: string, quote: string) =>
    insightScore({ type, text, quote }, story, 'starlight', hosts);

  it('reads the greeting or sign-off in what is said, not in the text that says who said it', () => {
    const answer =
      'Perseverance seals each core in a tube. The Mars Sample Return mission would collect the tubes and fly them home.';
    // The host asking is no greeting: worth what the same question is worth without her name.
    const asked = score(
      'question',
      'Lena Ortiz asks Jonah Reyes: How does a sample get back from Mars?',
      answer,
    );
    expect(asked).toBeCloseTo(score('question', 'How does a sample get back from Mars?', answer));
    expect(asked).toBeGreaterThanOrEqual(0.3);
    expect(
      score(
        'claim',
        'Lena Ortiz on NASA',
        'I read that NASA is rethinking that mission because of its cost.',
      ),
    ).toBe(
      score(
        'claim',
        'A claim about NASA',
        'I read that NASA is rethinking that mission because of its cost.',
      ),
    );
    // A greeting or a sign-off names the show or the host in the quote: less than the same words without.
    const welcome = 'My guest today is a NASA geologist who joins us on Starlight.';
    expect(score('observation', 'An observation about NASA', welcome)).toBeLessThan(
      score(
        'observation',
        'An observation about NASA',
        'My guest today is a NASA geologist who joins us today.',
      ) - 0.9,
    );
    expect(
      score('observation', 'Lena Ortiz on NASA', "I'm Lena Ortiz and NASA is on the line with us today."),
    ).toBeLessThan(0.3);
  });

  it("counts the story's names in the text or the quote, and a short quote for less", () => {
    // The text may give the full name of what the quote names shortly.
    expect(
      score('claim', 'Jonah Reyes on Mars Sample Return', 'That mission would fly the tubes home to us.'),
    ).toBeCloseTo(
      score('claim', 'Jonah Reyes on something', 'That mission would fly the tubes home to us.') + 0.8,
    );
    expect(score('claim', 'A claim about NASA', 'NASA wants it.')).toBeCloseTo(
      score('claim', 'A claim about NASA', 'NASA wants it for the labs on Earth.') - 0.3,
    );
  });
});

describe('the playlist', () => {
  // Ten 10-second cues; chapters at 0, 15 s and 50 s.
  const segments = Array.from({ length: 10 }, (_, i) => ({
    startMs: i * 10_000,
    endMs: i * 10_000 + 10_000,
    text: `Cue ${i} says something.`,
  }));
  const text = transcriptText(segments);
  const quoteAt = (i: number) => {
    const q = segments[i]!.text;
    return {
      text: q,
      charStart: text.starts[i]!,
      charEnd: text.starts[i]! + q.length,
      startMs: i * 10_000,
      endMs: i * 10_000 + 10_000,
    };
  };

  it('plays a chapter of a listenable length whole, else the segments around the quote', () => {
    const withChapters: Timeline = {
      text,
      chapters: [
        { startMs: 0, endMs: 15_000, title: 'Intro' },
        { startMs: 15_000, endMs: 50_000, title: 'The middle' },
        { startMs: 50_000, endMs: 100_000, title: 'The end' },
      ],
    };
    expect(stretchFor(insight({ quote: quoteAt(3) }), withChapters)).toEqual({
      kind: 'chapter',
      title: 'The middle',
      startMs: 15_000,
      endMs: 50_000,
    });
    // The intro is under 20 s: the quote's segments instead, one cue before it, on to 45 s.
    expect(stretchFor(insight({ quote: quoteAt(1) }), withChapters)).toEqual({
      kind: 'segment',
      title: 'Something worth hearing.',
      startMs: 0,
      endMs: 50_000,
    });
  });

  it('never runs past the listening time; overlapping picks of one episode are joined', () => {
    const timeline: Timeline = { text, chapters: [] };
    const stories = [
      {
        storyId: 's1',
        episodes: new Map([[1, { title: 'One', feedTitle: null }]]),
        insights: [insight({ quote: quoteAt(1) }), insight({ quote: quoteAt(3) })],
      },
      {
        storyId: 's2',
        episodes: new Map([[2, { title: 'Two', feedTitle: null }]]),
        insights: [insight({ episodeId: 2, quote: quoteAt(6) })],
      },
    ];
    for (const budget of [10_000, 49_999, 50_000, 90_000, 200_000]) {
      const p = pickPlaylist(stories, budget, () => timeline);
      expect(p.totalMs).toBeLessThanOrEqual(budget);
      expect(p.totalMs).toBe(p.items.reduce((s, i) => s + i.endMs - i.startMs, 0));
    }
    expect(pickPlaylist(stories, 10_000, () => timeline).items).toEqual([]);
    const all = pickPlaylist(stories, 200_000, () => timeline);
    // s1's two picks overlap (0–50 s and 20–70 s): one stretch, 0–70 s.
    expect(all.items.map((i) => [i.storyId, i.episodeId, i.startMs, i.endMs])).toEqual([
      ['s1', 1, 0, 70_000],
      ['s2', 2, 50_000, 100_000],
    ]);
  });
});

describe('the digest schedule', () => {
  let db: Db | null = null;
  afterEach(() => db?.close());

  function setup() {
    const dataDir = tempDir('earshot-digest-schedule-');
    db = openDatabase(databasePath(dataDir));
    const clock = new ManualClock(Date.UTC(2026, 2, 9, 10, 30));
    const queue = new Queue(db, new Registry([episodeWorkflow, digestWorkflow]), clock);
    const episode = (key: string, publishedAt: number, understood: boolean) => {
      const id = Number(
        db!
          .prepare(
            `INSERT INTO episodes (key, title, published_at, created_at, status) VALUES (?, ?, ?, ?, 'transcribed')`,
          )
          .run(key, key, publishedAt, publishedAt).lastInsertRowid,
      );
      if (understood)
        db!
          .prepare(
            `INSERT INTO artifacts (episode_id, kind, path, fingerprint, schema_version, created_at) VALUES (?, 'gi', '/x', 'f', 1, 0)`,
          )
          .run(id);
      return id;
    };
    return { db: db, clock, queue, episode };
  }

  it('owes the week up to this hour first, then one window per period; none while off', () => {
    const { db, clock } = setup();
    const hour = Date.UTC(2026, 2, 9, 10);
    expect(dueWindow(db, clock.now())).toEqual({
      from: hour - 7 * DAY,
      to: hour,
      budgetMs: 30 * 60_000,
      scheduled: true,
    });
    recordDigest(db, {
      file: '/x.json',
      digest: { from: hour - 7 * DAY, to: hour, schemaVersion: 1, stories: 1, episodes: 1 },
      scheduled: true,
      workflowId: null,
      now: clock.now(),
    });
    expect(dueWindow(db, clock.now())).toBeNull();
    clock.set(hour + 7 * DAY - 1);
    expect(dueWindow(db, clock.now())).toBeNull();
    // Three weeks away: only the latest week is owed.
    clock.set(hour + 21 * DAY + 5);
    expect(dueWindow(db, clock.now())).toMatchObject({ from: hour + 14 * DAY, to: hour + 21 * DAY });
    saveDigestSettings(db, { everyMs: DAY, budgetMs: 45 * 60_000 }, clock.now());
    expect(dueWindow(db, clock.now())).toMatchObject({
      from: hour + 20 * DAY,
      to: hour + 21 * DAY,
      budgetMs: 45 * 60_000,
    });
    saveDigestSettings(db, { everyMs: null }, clock.now());
    expect(dueWindow(db, clock.now())).toBeNull();
  });

  it('waits for the week’s episodes to be processed (at most six hours), and skips an empty week', () => {
    const { db, clock, queue, episode } = setup();
    expect(startDueDigest(db, queue)).toBeNull();
    episode('done', clock.now() - 2 * DAY, true);
    episode('busy', clock.now() - DAY, false);
    // The second episode is still being processed.
    queue.start('episode', 'busy', {
      episodeId: 2,
      key: 'busy',
      sources: [],
      transcripts: [],
      chaptersUrl: null,
      podloveChapters: [],
      localPath: null,
      sha256: null,
    });
    expect(startDueDigest(db, queue)).toBeNull();
    clock.set(Date.UTC(2026, 2, 9, 16, 1));
    // Six hours after the window's end, the digest is made with what is ready.
    const id = startDueDigest(db, queue);
    expect(id).toMatch(/^digest-/);
    // The same window is the same workflow.
    expect(startDueDigest(db, queue)).toBe(id);
    expect(db.prepare(`SELECT count(*) AS n FROM workflows WHERE kind = 'digest'`).get()).toEqual({ n: 1 });
  });
});
