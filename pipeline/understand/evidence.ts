import nlp from 'compromise';
import type { Analysis } from './nlp.ts';

/**
 * What compromise's lexicon and tagger say about capitalized words: first and last names,
 * honorifics, cities, countries and regions, organizations, and words that are adjectives or
 * verbs rather than names ("Short answer", "Transport"). wink-nlp's English lite model tags parts
 * of speech but names nothing, so this is the evidence the classic tier types entities with,
 * beside its gazetteers (./gazetteers) and context cues. Only sentences with a capitalized word
 * after their first are read, and of those only the first two that have each such word (a name
 * said forty times is typed from two of them; votes add up per name), which keeps the cost near
 * wink-nlp's own parse.
 */
export type TermTags = ReadonlySet<string>;

/** Tags by the offset (in the full text) where a capitalized term starts. */
export function nameEvidence(text: string, a: Analysis): Map<number, TermTags> {
  const seen = new Map<string, number>();
  const picked = a.sentences.filter((s) => {
    const caps = a.tokens
      .slice(s.first + 1, s.last + 1)
      .filter((t) => /^\p{Lu}/u.test(t.value) && t.value !== 'I')
      .map((t) => t.normal);
    if (!caps.some((c) => (seen.get(c) ?? 0) < 2)) return false;
    for (const c of caps) seen.set(c, (seen.get(c) ?? 0) + 1);
    return true;
  });
  const out = new Map<number, TermTags>();
  if (picked.length === 0) return out;
  // One document of the picked sentences, one per line; `starts` maps its offsets back.
  const starts: number[] = [];
  let at = 0;
  const parts = picked.map((s) => {
    starts.push(at);
    const part = text.slice(s.start, s.end).replace(/\n/g, ' ');
    at += part.length + 1;
    return part;
  });
  const doc = nlp(parts.join('\n'));
  const json = doc.json({ offset: true }) as {
    terms: { text: string; tags: string[]; offset: { start: number } }[];
  }[];
  for (const sentence of json)
    for (const term of sentence.terms) {
      if (!/^\p{Lu}/u.test(term.text)) continue;
      const local = term.offset.start;
      // The picked sentence this offset is in (binary search over starts).
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= local) lo = mid;
        else hi = mid - 1;
      }
      out.set(picked[lo]!.start + (local - starts[lo]!), new Set(term.tags));
    }
  return out;
}

export const isPersonTag = (t: TermTags | undefined) =>
  !!t && (t.has('Person') || t.has('FirstName') || t.has('LastName') || t.has('Honorific'));
export const isPlaceTag = (t: TermTags | undefined) =>
  !!t && (t.has('Place') || t.has('City') || t.has('Country') || t.has('Region'));
export const isOrgTag = (t: TermTags | undefined) => !!t && t.has('Organization');
/** A word compromise reads as an adjective, verb or adverb and not as a noun: not a name. */
export const isNotNounTag = (t: TermTags | undefined) =>
  !!t && !t.has('Noun') && (t.has('Adjective') || t.has('Verb') || t.has('Adverb'));
