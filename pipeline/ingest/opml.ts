import { XMLBuilder, XMLValidator } from 'fast-xml-parser';
import { parseXmlTree } from './xml-tree.ts';
import { decodeHTML } from 'entities';
import { IngestError } from './errors.ts';
import { cleanText } from './clean-text.ts';

export interface OpmlEntry {
  url: string;
  title?: string;
  /** Folder path, outer first, joined with " / ". */
  folder?: string;
}

export interface OpmlSkip {
  text: string;
  reason: string;
}

type Node = Record<string, unknown>;

function attr(node: Node, name: string): string | undefined {
  // OPML in the wild varies the case: xmlUrl, xmlurl, XMLURL.
  const key = Object.keys(node).find((k) => k.toLowerCase() === `@_${name.toLowerCase()}`);
  const v = key ? cleanText(decodeHTML(String(node[key]))).trim() : '';
  return v || undefined;
}

/** Read an OPML subscription list: nested folders flattened, duplicates and non-podcast entries reported. */
export function parseOpml(doc: string): { entries: OpmlEntry[]; skipped: OpmlSkip[] } {
  // A truncated or broken file is an error, never "0 podcasts added": the reader would recover
  // some of it silently and drop the rest.
  const valid = /<opml[\s>]/i.test(doc) ? XMLValidator.validate(doc.replace(/^\uFEFF/, '')) : true;
  if (valid !== true) {
    const { line, msg } = valid.err;
    throw new IngestError(
      'OPML_MALFORMED',
      `This OPML file is damaged (line ${line}: ${cleanText(msg).replace(/\.$/, '')}); nothing was imported. Export it again from your podcast app.`,
    );
  }
  const tree = parseXmlTree(doc);
  const opml = (tree.opml as Node[] | undefined)?.[0];
  const body = (opml?.body as Node[] | undefined)?.[0];
  if (!opml || !body) {
    throw new IngestError(
      'OPML_NOT_OPML',
      'This file is not an OPML subscription list (it has no <opml><body>). Export one from your podcast app.',
    );
  }
  const entries: OpmlEntry[] = [];
  const skipped: OpmlSkip[] = [];
  const seen = new Set<string>();
  const walk = (outlines: Node[], folders: string[]) => {
    for (const o of outlines) {
      const text = attr(o, 'text') ?? attr(o, 'title') ?? '(untitled)';
      const children = (o.outline as Node[] | undefined) ?? [];
      const xmlUrl = attr(o, 'xmlUrl');
      if (xmlUrl) {
        let url: string;
        try {
          const u = new URL(xmlUrl);
          if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
          u.hash = '';
          url = u.href;
        } catch {
          skipped.push({ text, reason: `its address "${xmlUrl}" is not an http(s) feed address` });
          continue;
        }
        if (seen.has(url)) {
          skipped.push({ text, reason: 'it is listed more than once' });
          continue;
        }
        seen.add(url);
        entries.push({
          url,
          title: attr(o, 'title') ?? attr(o, 'text'),
          folder: folders.length ? folders.join(' / ') : undefined,
        });
      } else if (children.length > 0) {
        walk(children, [...folders, text]);
      } else {
        const type = attr(o, 'type');
        skipped.push({
          text,
          reason:
            type === 'link' || attr(o, 'url')
              ? 'it is a web link, not a podcast feed'
              : 'it has no feed address',
        });
      }
    }
  };
  walk((body.outline as Node[] | undefined) ?? [], []);
  return { entries, skipped };
}

/** Write an OPML 2.0 list; folders become nested outlines, so it reads back the same. */
export function buildOpml(
  feeds: { url: string; title: string | null; folder: string | null }[],
  now: Date,
): string {
  type Outline = Record<string, unknown>;
  const root: Outline[] = [];
  const folders = new Map<string, Outline[]>();
  const folderList = (path: string): Outline[] => {
    let list = folders.get(path);
    if (list) return list;
    const parts = path.split(' / ');
    const parent = parts.length > 1 ? folderList(parts.slice(0, -1).join(' / ')) : root;
    list = [];
    parent.push({ '@_text': parts[parts.length - 1], outline: list });
    folders.set(path, list);
    return list;
  };
  for (const f of feeds) {
    const entry = {
      '@_type': 'rss',
      '@_text': f.title ?? f.url,
      '@_title': f.title ?? f.url,
      '@_xmlUrl': f.url,
    };
    (f.folder ? folderList(f.folder) : root).push(entry);
  }
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    format: true,
    suppressEmptyNode: true,
  });
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    builder.build({
      opml: {
        '@_version': '2.0',
        head: { title: 'Earshot subscriptions', dateCreated: now.toUTCString() },
        body: { outline: root },
      },
    })
  );
}
