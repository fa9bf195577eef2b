import fs from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { parseFeed, parseDuration } from '../../pipeline/ingest/feed-parse.ts';
import { decodeFeedBytes } from '../../pipeline/ingest/decode-text.ts';
import { repoRoot } from '../helpers/env.ts';

const base = 'https://quietlab.example/feeds/main.xml';
const fixture = (name: string) => fs.readFileSync(path.join(repoRoot, 'test/fixtures/feeds', name), 'utf8');
const rss = (items: string, ns = '') =>
  `<?xml version="1.0"?><rss version="2.0" ${ns}><channel><title>T</title>${items}</channel></rss>`;

describe('feed parsing', () => {
  it('reads RSS 2.0 with iTunes, Podcasting 2.0 and Podlove, resolving relative URLs', () => {
    const feed = parseFeed(fixture('podcast20.xml'), base);
    expect(feed).toMatchObject({
      format: 'rss',
      title: 'The Quiet Lab',
      author: 'Mara Quinn',
      imageUrl: 'https://quietlab.example/art/cover.jpg',
      podcastGuid: '917393e3-1b1e-5cef-ace4-edaa54e1f810',
    });
    const [ep3, ep2] = feed.items;
    expect(ep3).toMatchObject({
      guids: ['quietlab-003'],
      title: 'Episode 3: Failure & Luck',
      publishedAt: Date.UTC(2026, 2, 3, 9),
      durationMs: 3_723_000,
      enclosure: {
        url: 'https://quietlab.example/feeds/media/ep3.mp3',
        type: 'audio/mpeg',
        length: 61234567,
      },
      alternateEnclosures: [
        { url: 'https://quietlab.example/feeds/media/ep3.opus', type: 'audio/opus', length: 32000000 },
      ],
      transcripts: [
        { url: 'https://quietlab.example/feeds/transcripts/ep3.vtt', type: 'text/vtt', language: 'en' },
        { url: 'https://quietlab.example/feeds/transcripts/ep3.json', type: 'application/json' },
      ],
      chaptersUrl: {
        url: 'https://quietlab.example/feeds/chapters/ep3.json',
        type: 'application/json+chapters',
      },
      persons: [
        { name: 'Mara Quinn', role: 'host', href: 'https://quietlab.example/mara' },
        { name: 'Dr. Ilya Brandt', role: 'guest' },
      ],
      season: 1,
      episode: 3,
    });
    expect(ep3!.description).toContain('<b>failure</b>');
    expect(ep2!.podloveChapters).toEqual([
      { startMs: 0, title: 'Welcome' },
      { startMs: 330_500, title: 'Paper notebooks', href: 'https://quietlab.example/notebooks' },
    ]);
    expect(ep2!.durationMs).toBe(2_950_000);
  });

  it('finds the Podcasting 2.0 namespace under its other URI and any prefix', () => {
    const doc = rss(
      `<item><guid>a</guid><p2:transcript url="/t.srt" type="application/srt"/><p2:season>4</p2:season></item>`,
      'xmlns:p2="https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"',
    );
    expect(parseFeed(doc, base).items[0]).toMatchObject({
      transcripts: [{ url: 'https://quietlab.example/t.srt', type: 'application/srt' }],
      season: 4,
    });
  });

  it('reads Atom with link rel="enclosure" and xml:base', () => {
    const doc = `<?xml version="1.0" encoding="utf-8"?>
      <feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example/pod/">
        <title>Atom Cast</title><link rel="alternate" href="/"/>
        <entry><id>urn:uuid:1</id><title>First</title><published>2026-01-05T10:00:00Z</published>
          <link rel="alternate" href="episodes/1"/><link rel="enclosure" href="audio/1.m4a" type="audio/mp4" length="99"/>
          <summary>Hello &amp; welcome</summary></entry>
      </feed>`;
    const feed = parseFeed(doc, 'https://atom.example/feed');
    expect(feed).toMatchObject({ format: 'atom', title: 'Atom Cast', link: 'https://atom.example/' });
    expect(feed.items[0]).toMatchObject({
      guids: ['urn:uuid:1'],
      title: 'First',
      description: 'Hello & welcome',
      link: 'https://atom.example/pod/episodes/1',
      enclosure: { url: 'https://atom.example/pod/audio/1.m4a', type: 'audio/mp4', length: 99 },
      publishedAt: Date.UTC(2026, 0, 5, 10),
    });
  });

  it('recovers feeds that are not quite well-formed: raw ampersands, HTML entities', () => {
    const feed = parseFeed(
      rss(`<item><title>Tom & Jerry &nbsp;&copy; 2026 &bogus;</title><guid>x</guid></item>`),
      base,
    );
    expect(feed.items[0]!.title).toBe('Tom & Jerry \u00a0© 2026 &bogus;');
  });

  it('refuses an HTML page and garbage with a reason', () => {
    expect(() =>
      parseFeed('<!DOCTYPE html><html><head><title>Blog</title></head><body>hi</body></html>', base),
    ).toThrow(/web page, not a podcast feed/);
    expect(() => parseFeed('{"json": true}', base)).toThrow(/did not return an RSS or Atom feed/);
    expect(() => parseFeed('<rss><nochannel/></rss>', base)).toThrow(/no <channel>/);
  });

  it('never expands entities: billion laughs stays small and fast, XXE is refused', () => {
    const lol =
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">' +
      Array.from(
        { length: 9 },
        (_, i) =>
          `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`,
      ).join('') +
      ']><rss><channel><title>&j;</title><item><guid>1</guid></item></channel></rss>';
    const t = performance.now();
    const feed = parseFeed(lol, base);
    expect(performance.now() - t).toBeLessThan(1000); // 10^10 characters if it ever expanded
    expect(feed.title.length).toBeLessThan(10);
    const xxe =
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel><title>&x;</title></channel></rss>';
    let out = '';
    try {
      out = parseFeed(xxe, base).title;
    } catch (err) {
      expect((err as Error).message).toMatch(/external XML entities, which Earshot never loads/);
    }
    expect(out).not.toContain('root:');
  });

  it('parses durations in all the shapes feeds use', () => {
    expect(parseDuration('3723')).toBe(3_723_000);
    expect(parseDuration('62:03')).toBe(3_723_000);
    expect(parseDuration('01:02:03')).toBe(3_723_000);
    expect(parseDuration('12.5')).toBe(12_500);
    expect(parseDuration('about an hour')).toBeUndefined();
  });
});

describe('feed text decoding', () => {
  const doc = (enc: string, title: string) =>
    `<?xml version="1.0" encoding="${enc}"?><rss><channel><title>${title}</title></channel></rss>`;

  it.each([
    ['windows-1251', 'Разговоры о науке'],
    ['ISO-8859-1', 'Café Olé'],
    ['GB2312', '科学播客'],
    ['Shift_JIS', 'ポッドキャスト'],
  ])('honours a declared %s', (enc, title) => {
    const { text, encoding } = decodeFeedBytes(iconv.encode(doc(enc, title), enc));
    expect(encoding).toBe(enc.toLowerCase());
    expect(parseFeed(text, base).title).toBe(title);
  });

  it('honours a byte-order mark (UTF-16) over everything else', () => {
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      iconv.encode(doc('UTF-16', 'Ünïcode'), 'utf-16le'),
    ]);
    expect(parseFeed(decodeFeedBytes(bytes).text, base).title).toBe('Ünïcode');
  });

  it('uses the HTTP charset when the document declares none', () => {
    const bytes = iconv.encode('<rss><channel><title>Señal y ruido</title></channel></rss>', 'latin1');
    expect(decodeFeedBytes(bytes, 'text/xml; charset=ISO-8859-1').text).toContain('Señal y ruido');
  });

  it('sniffs an undeclared legacy encoding rather than producing mojibake', () => {
    const bytes = iconv.encode(
      '<rss><channel><title>Подкаст про историю и науку, выпуск первый</title></channel></rss>',
      'windows-1251',
    );
    expect(decodeFeedBytes(bytes).text).toContain('Подкаст про историю');
  });
});
