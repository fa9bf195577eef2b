import { parseXmlTree } from './xml-tree.ts';
import { decodeHTML } from 'entities';
import { IngestError } from './errors.ts';
import { cleanText, cleanTitle } from './clean-text.ts';

/** Namespaces as feeds in the wild bind them; prefixes vary, so lookups go by URI. */
export const NS = {
  itunes: ['http://www.itunes.com/dtds/podcast-1.0.dtd', 'https://www.itunes.com/dtds/podcast-1.0.dtd'],
  podcast: [
    'https://podcastindex.org/namespace/1.0',
    'https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md',
    'http://podcastindex.org/namespace/1.0',
  ],
  atom: ['http://www.w3.org/2005/Atom'],
  content: ['http://purl.org/rss/1.0/modules/content/'],
  psc: ['http://podlove.org/simple-chapters', 'https://podlove.org/simple-chapters'],
  media: ['http://search.yahoo.com/mrss/'],
  dc: ['http://purl.org/dc/elements/1.1/'],
} as const;
type NsName = keyof typeof NS;

/** Prefixes commonly used without a declaration (broken feeds); used when nothing is declared. */
const CONVENTIONAL: Record<NsName, string> = {
  itunes: 'itunes',
  podcast: 'podcast',
  atom: 'atom',
  content: 'content',
  psc: 'psc',
  media: 'media',
  dc: 'dc',
};

export interface Enclosure {
  url: string;
  type?: string;
  length?: number;
  title?: string;
}

export interface TranscriptRef {
  url: string;
  type: string;
  language?: string;
  rel?: string;
}

export interface Person {
  name: string;
  role?: string;
  group?: string;
  href?: string;
  img?: string;
}

export interface Chapter {
  startMs: number;
  title: string;
  href?: string;
  image?: string;
}

export interface ParsedItem {
  /** Every guid the item carries (normally one); the first is its identity. */
  guids: string[];
  title?: string;
  description?: string;
  link?: string;
  publishedAt?: number;
  durationMs?: number;
  enclosure?: Enclosure;
  alternateEnclosures: Enclosure[];
  transcripts: TranscriptRef[];
  chaptersUrl?: { url: string; type?: string };
  podloveChapters: Chapter[];
  persons: Person[];
  season?: number;
  episode?: number;
  imageUrl?: string;
}

export interface ParsedFeed {
  format: 'rss' | 'atom';
  title: string;
  description?: string;
  link?: string;
  imageUrl?: string;
  author?: string;
  language?: string;
  podcastGuid?: string;
  items: ParsedItem[];
}

type Node = Record<string, unknown>;

function arr(v: unknown): Node[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((x) =>
    typeof x === 'object' && x !== null ? (x as Node) : { '#text': x },
  );
}

function text(v: unknown): string | undefined {
  const node = arr(v)[0];
  if (!node) return undefined;
  const raw = node['#text'];
  if (raw === undefined || raw === null) return undefined;
  // Control characters, terminal escapes and bidi overrides never reach the library.
  const s = cleanText(decodeHTML(String(Array.isArray(raw) ? raw.join('') : raw))).trim();
  return s === '' ? undefined : s;
}

/** A title: cleaned, on one line, at most MAX_TITLE characters. */
function title(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = cleanTitle(v);
  return t === '' ? undefined : t;
}

function attr(node: Node | undefined, name: string): string | undefined {
  const v = node?.[`@_${name}`];
  if (v === undefined || v === null) return undefined;
  const s = cleanText(decodeHTML(String(v))).trim();
  return s === '' ? undefined : s;
}

function absolute(url: string | undefined, base: string): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url, base).href;
  } catch {
    return undefined;
  }
}

function int(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number.parseInt(v.replace(/[,\s]/g, ''), 10);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** itunes:duration as seconds, MM:SS or HH:MM:SS (fractions allowed) → ms. */
export function parseDuration(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const parts = v.trim().split(':');
  if (parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) return undefined;
  const seconds = parts.reduce((acc, p) => acc * 60 + Number(p), 0);
  return Math.round(seconds * 1000);
}

/** Podlove's normal play time: HH:MM:SS(.mmm), MM:SS(.mmm) or seconds. */
function parseNpt(v: string | undefined): number | undefined {
  return parseDuration(v?.replace(/^npt:/, ''));
}

function parseDate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  if (Number.isFinite(t)) return t;
  // Common breakage: a weekday that does not match, or a named zone Date.parse does not know.
  const stripped = Date.parse(
    v.replace(/^[A-Za-z]{3,},?\s*/, '').replace(/\s+(EST|EDT|CST|CDT|MST|MDT|PST|PDT)$/, (z) => {
      const offsets: Record<string, string> = {
        EST: '-0500',
        EDT: '-0400',
        CST: '-0600',
        CDT: '-0500',
        MST: '-0700',
        MDT: '-0600',
        PST: '-0800',
        PDT: '-0700',
      };
      return ` ${offsets[z.trim()]}`;
    }),
  );
  return Number.isFinite(stripped) ? stripped : undefined;
}

class Names {
  private readonly prefixes = new Map<NsName, string[]>();
  constructor(decls: Node[]) {
    for (const name of Object.keys(NS) as NsName[]) {
      const uris: readonly string[] = NS[name];
      const found: string[] = [];
      for (const d of decls) {
        for (const [k, v] of Object.entries(d)) {
          if (!k.startsWith('@_xmlns')) continue;
          if (uris.includes(String(v).trim())) found.push(k === '@_xmlns' ? '' : k.slice('@_xmlns:'.length));
        }
      }
      if (!found.includes(CONVENTIONAL[name])) found.push(CONVENTIONAL[name]);
      this.prefixes.set(name, found);
    }
  }
  /** The first child `local` in namespace `ns` under `node`. */
  get(node: Node, ns: NsName, local: string): unknown {
    for (const p of this.prefixes.get(ns)!) {
      const v = node[p ? `${p}:${local}` : local];
      if (v !== undefined) return v;
    }
    return undefined;
  }
  all(node: Node, ns: NsName, local: string): Node[] {
    return this.prefixes.get(ns)!.flatMap((p) => arr(node[p ? `${p}:${local}` : local]));
  }
}

function looksLikeHtml(doc: string): boolean {
  return /^\s*(<!--[\s\S]*?-->\s*)*(<!doctype\s+html|<html[\s>])/i.test(doc);
}

/**
 * Parse RSS 2.0 (with iTunes, Podcasting 2.0 and Podlove) or Atom into Earshot's feed model.
 * Relative URLs are resolved against `baseUrl`. Throws IngestError for anything that is not a
 * feed, with a message saying what it was.
 */
export function parseFeed(doc: string, baseUrl: string): ParsedFeed {
  const head = doc.slice(0, 2048);
  if (looksLikeHtml(head)) {
    throw new IngestError(
      'FEED_IS_HTML',
      'This address returned a web page, not a podcast feed. Look on the page for an "RSS" or "Subscribe" link and use that address.',
    );
  }
  const tree: Node = parseXmlTree(doc);
  const rss = arr(tree.rss)[0] ?? arr(tree['rdf:RDF'])[0];
  if (rss) return parseRss(rss, baseUrl);
  const atom = arr(tree.feed)[0] ?? Object.entries(tree).find(([k]) => k.endsWith(':feed'))?.[1];
  if (atom) return parseAtom(arr(atom)[0]!, baseUrl);
  if (tree.html || tree.HTML) {
    throw new IngestError('FEED_IS_HTML', 'This address returned a web page, not a podcast feed.');
  }
  throw new IngestError(
    'FEED_NOT_A_FEED',
    'This address did not return an RSS or Atom feed. Check that it is the feed address of the podcast.',
  );
}

function parseRss(rss: Node, base: string): ParsedFeed {
  const channel = arr(rss.channel)[0];
  if (!channel)
    throw new IngestError(
      'FEED_NOT_A_FEED',
      'This RSS document has no <channel>, so it has no episodes to follow.',
    );
  const n = new Names([rss, channel]);
  const itunesImage = attr(arr(n.get(channel, 'itunes', 'image'))[0], 'href');
  const image = arr(channel.image)[0];
  const items = [...arr(channel.item), ...arr(rss.item)].map((item) => parseRssItem(item, n, base));
  return {
    format: 'rss',
    title: title(text(channel.title) ?? text(n.get(channel, 'itunes', 'title'))) ?? 'Untitled podcast',
    description: text(channel.description) ?? text(n.get(channel, 'itunes', 'summary')),
    link: absolute(text(channel.link), base),
    imageUrl: absolute(itunesImage ?? text(image?.url), base),
    author: title(text(n.get(channel, 'itunes', 'author')) ?? text(channel.managingEditor)),
    language: text(channel.language),
    podcastGuid: text(n.get(channel, 'podcast', 'guid')),
    items,
  };
}

function enclosureOf(node: Node | undefined, base: string, urlAttr = 'url'): Enclosure | undefined {
  const url = absolute(attr(node, urlAttr), base);
  if (!url) return undefined;
  return {
    url,
    type: attr(node, 'type'),
    length: int(attr(node, 'length')),
    title: title(attr(node, 'title')),
  };
}

function podcastExtras(item: Node, n: Names, base: string) {
  const alternateEnclosures: Enclosure[] = [];
  for (const alt of n.all(item, 'podcast', 'alternateEnclosure')) {
    for (const src of n.all(alt, 'podcast', 'source')) {
      const url = absolute(attr(src, 'uri'), base);
      if (url) {
        alternateEnclosures.push({
          url,
          type: attr(src, 'contentType') ?? attr(alt, 'type'),
          length: int(attr(alt, 'length')),
          title: title(attr(alt, 'title')),
        });
      }
    }
  }
  const transcripts: TranscriptRef[] = [];
  for (const t of n.all(item, 'podcast', 'transcript')) {
    const url = absolute(attr(t, 'url'), base);
    const type = attr(t, 'type');
    if (url && type) transcripts.push({ url, type, language: attr(t, 'language'), rel: attr(t, 'rel') });
  }
  const chaptersNode = n.all(item, 'podcast', 'chapters')[0];
  const chaptersUrl = absolute(attr(chaptersNode, 'url'), base);
  const persons: Person[] = n.all(item, 'podcast', 'person').flatMap((p) => {
    const name = text(p);
    return name
      ? [
          {
            name,
            role: attr(p, 'role')?.toLowerCase(),
            group: attr(p, 'group')?.toLowerCase(),
            href: absolute(attr(p, 'href'), base),
            img: absolute(attr(p, 'img'), base),
          },
        ]
      : [];
  });
  const podloveChapters: Chapter[] = n.all(item, 'psc', 'chapters').flatMap((list) =>
    n.all(list, 'psc', 'chapter').flatMap((c) => {
      const startMs = parseNpt(attr(c, 'start'));
      const name = title(attr(c, 'title'));
      return startMs !== undefined && name
        ? [
            {
              startMs,
              title: name,
              href: absolute(attr(c, 'href'), base),
              image: absolute(attr(c, 'image'), base),
            },
          ]
        : [];
    }),
  );
  return {
    alternateEnclosures,
    transcripts,
    chaptersUrl: chaptersUrl ? { url: chaptersUrl, type: attr(chaptersNode, 'type') } : undefined,
    persons,
    podloveChapters,
    season: int(text(n.get(item, 'podcast', 'season')) ?? text(n.get(item, 'itunes', 'season'))),
    episode: int(text(n.get(item, 'podcast', 'episode')) ?? text(n.get(item, 'itunes', 'episode'))),
  };
}

function parseRssItem(item: Node, n: Names, base: string): ParsedItem {
  const guids = arr(item.guid)
    .map((g) => text(g))
    .filter((g): g is string => Boolean(g));
  const enclosure =
    enclosureOf(arr(item.enclosure)[0], base) ?? enclosureOf(arr(n.get(item, 'media', 'content'))[0], base);
  return {
    guids,
    title: title(text(item.title) ?? text(n.get(item, 'itunes', 'title'))),
    description:
      text(n.get(item, 'content', 'encoded')) ??
      text(item.description) ??
      text(n.get(item, 'itunes', 'summary')),
    link: absolute(text(item.link), base),
    publishedAt: parseDate(text(item.pubDate) ?? text(n.get(item, 'dc', 'date'))),
    durationMs: parseDuration(text(n.get(item, 'itunes', 'duration'))),
    enclosure,
    imageUrl: absolute(attr(arr(n.get(item, 'itunes', 'image'))[0], 'href'), base),
    ...podcastExtras(item, n, base),
  };
}

function parseAtom(feed: Node, base: string): ParsedFeed {
  const n = new Names([feed]);
  const get = (node: Node, local: string) => n.get(node, 'atom', local) ?? node[local];
  const feedBase = absolute(attr(feed, 'xml:base'), base) ?? base;
  const links = (node: Node) => arr(get(node, 'link'));
  const alternate = (node: Node, b: string) =>
    absolute(
      attr(
        links(node).find((l) => (attr(l, 'rel') ?? 'alternate') === 'alternate'),
        'href',
      ),
      b,
    );
  const items = arr(get(feed, 'entry')).map((entry): ParsedItem => {
    const b = absolute(attr(entry, 'xml:base'), feedBase) ?? feedBase;
    const enclosure = links(entry)
      .filter((l) => attr(l, 'rel') === 'enclosure')
      .map((l) => enclosureOf(l, b, 'href'))
      .find(Boolean);
    const id = text(get(entry, 'id'));
    return {
      guids: id ? [id] : [],
      title: title(text(get(entry, 'title'))),
      description: text(get(entry, 'content')) ?? text(get(entry, 'summary')),
      link: alternate(entry, b),
      publishedAt: parseDate(text(get(entry, 'published')) ?? text(get(entry, 'updated'))),
      durationMs: parseDuration(text(n.get(entry, 'itunes', 'duration'))),
      enclosure,
      imageUrl: absolute(attr(arr(n.get(entry, 'itunes', 'image'))[0], 'href'), b),
      ...podcastExtras(entry, n, b),
    };
  });
  const author = arr(get(feed, 'author'))[0];
  return {
    format: 'atom',
    title: title(text(get(feed, 'title'))) ?? 'Untitled podcast',
    description: text(get(feed, 'subtitle')),
    link: alternate(feed, feedBase),
    imageUrl: absolute(text(get(feed, 'logo')) ?? text(get(feed, 'icon')), feedBase),
    author: author ? title(text(get(author, 'name'))) : undefined,
    podcastGuid: text(n.get(feed, 'podcast', 'guid')),
    items,
  };
}
