import { Document, isMap, parseDocument } from 'yaml';

/**
 * A Markdown note that Earshot and its reader both edit. Earshot owns its front-matter keys
 * and the sections between its markers:
 *
 *   <!-- earshot:begin summary -->
 *   …
 *   <!-- earshot:end summary -->
 *
 * Re-exporting replaces only those: the reader's own front-matter keys (and YAML comments),
 * and everything they wrote outside the markers, stay as they are. A section Earshot did not
 * write before (an episode understood since) goes before the next of its sections the note has,
 * else at the end. Front matter is read and written with the `yaml` package.
 */

export interface NoteParts {
  /** Earshot's keys, in order; a value of undefined removes the key. */
  frontMatter: [string, unknown][];
  /** Keys set only when the note is new (the reader may change them): tags. */
  initialFrontMatter?: [string, unknown][];
  /** Earshot's sections, in the order a new note has them. */
  sections: [string, string][];
}

const FRONT = /^---\r?\n([\s\S]*?)\r?\n?---[^\S\r\n]*(?:\r?\n|$)/;
const begin = (name: string) => `<!-- earshot:begin ${name} -->`;
const end = (name: string) => `<!-- earshot:end ${name} -->`;
const wrap = (name: string, content: string) => `${begin(name)}\n${content.trimEnd()}\n${end(name)}`;

const YAML_OPTIONS = { flowCollectionPadding: false, lineWidth: 0 } as const;

function frontMatterText(doc: Document): string {
  return `---\n${doc.toString(YAML_OPTIONS)}---\n`;
}

/** The note as Earshot writes it the first time. */
export function newNote(parts: NoteParts): string {
  const doc = new Document({});
  for (const [k, v] of [...parts.frontMatter, ...(parts.initialFrontMatter ?? [])])
    if (v !== undefined) doc.set(k, v);
  return `${frontMatterText(doc)}\n${parts.sections.map(([n, c]) => wrap(n, c)).join('\n\n')}\n`;
}

/** The note with Earshot's parts brought up to date and everything else kept. */
export function mergeNote(existing: string, parts: NoteParts): string {
  let body = existing;
  let front: string;
  const m = FRONT.exec(existing);
  if (m) {
    body = existing.slice(m[0].length);
    const doc = parseDocument(m[1]!);
    if (doc.errors.length > 0 || (doc.contents !== null && !isMap(doc.contents))) {
      // Front matter the reader broke: theirs to fix; Earshot does not rewrite what it cannot read.
      front = m[0].endsWith('\n') ? m[0] : `${m[0]}\n`;
    } else {
      for (const [k, v] of parts.frontMatter) {
        if (v === undefined) doc.delete(k);
        else doc.set(k, v);
      }
      front = frontMatterText(doc);
    }
  } else {
    const doc = new Document({});
    for (const [k, v] of [...parts.frontMatter, ...(parts.initialFrontMatter ?? [])])
      if (v !== undefined) doc.set(k, v);
    front = `${frontMatterText(doc)}\n`;
  }
  const names = parts.sections.map(([n]) => n);
  for (let i = 0; i < parts.sections.length; i++) {
    const [name, content] = parts.sections[i]!;
    const from = body.indexOf(begin(name));
    const to = from < 0 ? -1 : body.indexOf(end(name), from);
    if (from >= 0 && to >= 0) {
      body = body.slice(0, from) + wrap(name, content) + body.slice(to + end(name).length);
      continue;
    }
    // Not there yet: before the next of Earshot's sections the note has, else at the end.
    const next = names
      .slice(i + 1)
      .map((n) => body.indexOf(begin(n)))
      .filter((at) => at >= 0)
      .sort((a, b) => a - b)[0];
    if (next === undefined) body = `${body.trimEnd()}\n\n${wrap(name, content)}\n`;
    else body = `${body.slice(0, next)}${wrap(name, content)}\n\n${body.slice(next)}`;
  }
  return front + body;
}

/** The value of `key` in a note's front matter, or undefined (read with the `yaml` package). */
export function frontMatterValue(text: string, key: string): unknown {
  const m = FRONT.exec(text);
  if (!m) return undefined;
  const doc = parseDocument(m[1]!);
  if (doc.errors.length > 0) return undefined;
  try {
    return doc.get(key);
  } catch {
    return undefined;
  }
}
