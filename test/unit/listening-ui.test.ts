/**
 * The renderer's pure pieces behind the listening screens: speaker paragraphs and the segment at
 * a time, searched words found in text, lengths and dates, and the paged window the virtual
 * episode list reads through (with a fake transport). The screens themselves are tested in
 * Chromium (test/e2e/listening.test.ts).
 */
import { describe, expect, it, vi } from 'vitest';
import { nextTick, ref } from 'vue';

// The renderer is type-checked by tsconfig.web.json; importing it by a computed URL keeps it out of
// tsconfig.node.json's program, so only its behaviour is tested here.
const renderer = (p: string) => new URL(`../../renderer/src/${p}`, import.meta.url).href;

interface Segment {
  startMs: number;
  endMs: number;
  text: string;
  speaker?: string;
}
interface Paragraph {
  speaker: string | null;
  continued: boolean;
  startMs: number;
  first: number;
  last: number;
}
const { paragraphs, segmentAt } = (await import(renderer('paragraphs.ts'))) as {
  paragraphs(s: Segment[], o?: { maxChars?: number; gapMs?: number }): Paragraph[];
  segmentAt(s: Segment[], ms: number): number;
};
const format = (await import(renderer('format.ts'))) as {
  queryTerms(q: string): string[];
  termRanges(text: string, terms: string[]): [number, number][];
  splitHighlights(text: string, h: [number, number][]): { text: string; mark: boolean }[];
  formatLength(ms: number | null): string;
  formatLeft(position: number, duration: number | null): string;
  formatDay(ms: number | null): string;
};

interface Item {
  id: number;
}
type Page = { total: number; offset: number; items: Item[] };
// api.ts picks the page's transport at import: a page origin is enough for it (HTTP, not used).
vi.stubGlobal('window', { location: { origin: 'http://127.0.0.1:1' } });
const { useEpisodeWindow, PAGE_SIZE } = (await import(renderer('composables/episode-window.ts'))) as {
  PAGE_SIZE: number;
  useEpisodeWindow(
    query: ReturnType<typeof ref<object | null>>,
    api: { invoke(name: string, ...args: unknown[]): Promise<unknown> },
  ): {
    total: { value: number | null };
    ensure(first: number, last: number): void;
    at(i: number): Item | undefined;
    reset(): Promise<void>;
    refresh(only?: Iterable<number>): Promise<void>;
  };
};

const seg = (startMs: number, text: string, speaker?: string, endMs = startMs + 4000): Segment => ({
  startMs,
  endMs,
  text,
  ...(speaker ? { speaker } : {}),
});

describe('transcript paragraphs', () => {
  it("makes one paragraph per speaker's turn, named where the speaker changes", () => {
    const s = [
      seg(0, 'Welcome back.', 'Lena'),
      seg(4000, 'Today: habits.', 'Lena'),
      seg(8000, 'Thanks for having me.', 'Samir'),
      seg(12000, 'So, where to start?', 'Lena'),
    ];
    expect(paragraphs(s)).toEqual([
      { speaker: 'Lena', continued: false, startMs: 0, first: 0, last: 1 },
      { speaker: 'Samir', continued: false, startMs: 8000, first: 2, last: 2 },
      { speaker: 'Lena', continued: false, startMs: 12000, first: 3, last: 3 },
    ]);
  });

  it('breaks a long turn at a sentence end, or after a pause, and never mid-sentence', () => {
    const long = Array.from({ length: 6 }, (_, i) =>
      seg(i * 4000, `${'word '.repeat(30)}${i % 2 ? 'end.' : 'and'}`, 'Samir'),
    );
    const p = paragraphs(long, { maxChars: 200 });
    expect(p.map((x) => [x.first, x.last, x.continued])).toEqual([
      [0, 1, false],
      [2, 3, true],
      [4, 5, true],
    ]);
    const paused = [seg(0, 'One.'), seg(4000, 'Two.'), seg(20000, 'After a pause.'), seg(24000, 'and on')];
    expect(paragraphs(paused).map((x) => [x.first, x.last, x.speaker])).toEqual([
      [0, 1, null],
      [2, 3, null],
    ]);
    // A pause in the middle of a sentence does not split it.
    expect(paragraphs([seg(0, 'Well'), seg(20000, 'then.')])).toHaveLength(1);
    expect(paragraphs([])).toEqual([]);
  });

  it('finds the segment playing at a time (the last one starting at or before it)', () => {
    const s = [seg(0, 'a'), seg(5000, 'b'), seg(10000, 'c')];
    expect([-1, 0, 4999, 5000, 9999, 10000, 99999].map((ms) => segmentAt(s, ms))).toEqual([
      -1, 0, 0, 1, 1, 2, 2,
    ]);
    expect(segmentAt([], 10)).toBe(-1);
  });
});

describe('searched words in text', () => {
  it('marks whole words that start with a term, case aside, and nothing inside other words', () => {
    const terms = format.queryTerms('Career streaks, a');
    expect(terms).toEqual(['career', 'streaks']);
    const text = 'Careers and streaks: my career. Not a subcareer.';
    const parts = format.splitHighlights(text, format.termRanges(text, terms));
    expect(parts.filter((p) => p.mark).map((p) => p.text)).toEqual(['Careers', 'streaks', 'career']);
    expect(parts.map((p) => p.text).join('')).toBe(text);
    expect(format.termRanges(text, [])).toEqual([]);
    // Characters that mean something in a pattern are only text.
    expect(format.termRanges('a (b) c++ d', format.queryTerms('c++ (b)'))).toEqual([]);
    expect(format.termRanges('a.b', ['a.b'])).toEqual([[0, 3]]);
  });
});

describe('lengths and dates', () => {
  it('writes lengths, what is left and days the way the lists do', () => {
    expect(format.formatLength(3_723_000)).toBe('62 min');
    expect(format.formatLength(45_000)).toBe('45 s');
    expect(format.formatLength(null)).toBe('');
    expect(format.formatLeft(60_000, 3_600_000)).toBe('59 min left');
    expect(format.formatLeft(170_000, 180_000)).toBe('10 s left');
    expect(format.formatLeft(1000, null)).toBe('In progress');
    expect(format.formatDay(Date.UTC(2026, 2, 3, 23, 30))).toBe('Mar 3, 2026');
    expect(format.formatDay(null)).toBe('');
  });
});

describe('the episode window behind the virtual list', () => {
  function fakeApi(total: number) {
    const calls: { feedId?: number; offset: number; limit: number }[] = [];
    const pending: (() => void)[] = [];
    const api = {
      manual: false,
      invoke: vi.fn(async (_name: string, q: { feedId?: number; offset: number; limit: number }) => {
        calls.push(q);
        if (api.manual) await new Promise<void>((r) => pending.push(r));
        const n = Math.max(0, Math.min(q.limit, total - q.offset));
        return {
          total,
          offset: q.offset,
          items: Array.from({ length: n }, (_, i) => ({ id: (q.feedId ?? 0) * 1_000_000 + q.offset + i })),
        } satisfies Page;
      }),
    };
    return { api, calls, pending };
  }
  const settle = async () => {
    for (let i = 0; i < 5; i++) await nextTick();
  };

  it('reads the first page for the length, then only the pages rows on screen fall in, once each', async () => {
    const { api, calls } = fakeApi(100_000);
    const query = ref<object | null>({ feedId: 2 });
    const w = useEpisodeWindow(query, api);
    await w.reset();
    expect(w.total.value).toBe(100_000);
    expect(calls).toEqual([{ feedId: 2, offset: 0, limit: PAGE_SIZE }]);
    expect(w.at(0)).toEqual({ id: 2_000_000 });
    expect(w.at(PAGE_SIZE * 500)).toBeUndefined();
    w.ensure(PAGE_SIZE * 500 - 5, PAGE_SIZE * 500 + 5);
    w.ensure(PAGE_SIZE * 500 - 5, PAGE_SIZE * 500 + 5);
    await settle();
    expect(calls.map((c) => c.offset)).toEqual([0, PAGE_SIZE * 499, PAGE_SIZE * 500]);
    expect(w.at(PAGE_SIZE * 500 + 3)).toEqual({ id: 2_000_000 + PAGE_SIZE * 500 + 3 });
    await w.refresh([500]);
    expect(calls.map((c) => c.offset).at(-1)).toBe(PAGE_SIZE * 500);
  });

  it('drops an answer to a query that has since changed', async () => {
    const { api, calls, pending } = fakeApi(1000);
    const query = ref<object | null>({ feedId: 1 });
    const w = useEpisodeWindow(query, api);
    api.manual = true;
    const first = w.reset();
    query.value = { feedId: 3 };
    const second = w.reset();
    await settle();
    expect(calls.map((c) => c.feedId)).toEqual([1, 3]);
    // The newer answer first, then the stale one: the stale one is not kept.
    pending[1]!();
    await second;
    pending[0]!();
    await first;
    expect(w.at(0)).toEqual({ id: 3_000_000 });
  });
});
