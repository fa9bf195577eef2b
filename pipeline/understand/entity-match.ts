import { normalizeName } from './names.ts';
import type { EntityType } from './types.ts';

/**
 * Merging entities by meaning, when an embedding model is active: the understand step (worker)
 * proposes which library entity each of the episode's entities is, from the cosine similarity of
 * their names' embeddings; the step's commit (canonical.ts) takes a proposal only if that entity
 * still exists with the name that was compared.
 *
 * Name embeddings alone are not evidence enough: by meaning, "Stanford University" is close to
 * "Harvard University", "John Smith" to "John Jones" and "Apollo 11" to "Apollo 13". So a pair
 * is compared only when the names are written-out variants of one another, and the embedding
 * then decides:
 * - the same letters once spaces and punctuation go ("OpenAI" / "Open AI Inc", "Open-AI");
 * - an acronym of the other's words ("EU" / "European Union");
 * - the same words up to a plural and word order ("interest rate" / "interest rates");
 * - an organization with a company word added ("Deutsche Bank" / "Deutsche Bank Group");
 * - a person with the same first and last names, a middle name or initial apart ("Sarah Chen" /
 *   "Sarah J. Chen"). Two people with different surnames, or different first names, never merge;
 *   nor does a single-word name (canonical.ts has its own rule for "Lex").
 * Always within one type. Names that merge by their normalized key never get here.
 */

/** Cosine similarity at or above which two compatible names are one entity. */
export const ENTITY_MERGE_THRESHOLD = 0.85;
/** When two different entities are this close to the best score, the match is ambiguous: none is taken. */
export const ENTITY_MERGE_MARGIN = 0.03;

/** What the worker proposes for one of the episode's entities (by its local id). */
export interface EntityMatch {
  /** The library entity it is; null when it is another entity of this same episode (`localId`). */
  canonicalId: number | null;
  localId: string | null;
  /** The name (or alias) of that entity that was compared: the commit checks it is still that entity's. */
  matchedName: string;
  score: number;
}

export interface MatchableEntity {
  id: string;
  name: string;
  type: EntityType;
}

export interface CandidateEntity {
  id: number;
  type: EntityType;
  name: string;
  aliases: string[];
}

/** Words that only say "a company" ("Deutsche Bank Group"); inc, corp, ltd… are already dropped by normalizeName. */
const COMPANY_WORDS = new Set([
  'company',
  'corporation',
  'incorporated',
  'limited',
  'group',
  'holdings',
  'international',
  'enterprises',
]);
/** Left out of acronyms and word comparisons. */
const GLUE = new Set(['of', 'the', 'and', '&', 'for', 'de', 'la', 'du']);
/** Words that tell numbered things apart ("World War II", "Apollo 11"). */
const NUMBERING = /^(\d+(st|nd|rd|th)?|m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3}))$/;

const tokens = (name: string) => normalizeName(name).split(' ').filter(Boolean);
const singular = (w: string) => (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w);
const sameSet = (a: string[], b: string[]) => {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((w, i) => w === y[i]);
};

function isAcronymOf(short: string[], long: string[]): boolean {
  if (short.length !== 1) return false;
  const letters = short[0]!;
  const words = long.filter((w) => !GLUE.has(w));
  return (
    letters.length >= 2 &&
    words.length === letters.length &&
    words.every((w, i) => !NUMBERING.test(w) && w[0] === letters[i])
  );
}

/**
 * Whether two names of one type are written-out variants of each other (see the top of this
 * file), so that their embeddings may decide. False for names with the same normalized key.
 */
export function namesCompatible(type: EntityType, a: string, b: string): boolean {
  const x = tokens(a);
  const y = tokens(b);
  if (x.length === 0 || y.length === 0 || x.join(' ') === y.join(' ')) return false;
  if (type === 'person') {
    if (x.length < 2 || y.length < 2) return false;
    if (x[0] !== y[0] || x[x.length - 1] !== y[y.length - 1]) return false;
    // What is left is middle names or initials: one name's middle is part of the other's.
    const [mx, my] = [x.slice(1, -1), y.slice(1, -1)];
    const [short, long] = mx.length <= my.length ? [mx, my] : [my, mx];
    return short.every((w) => long.includes(w) || long.some((l) => l[0] === w && w.length === 1));
  }
  // Numbered things differ by their number, however alike the rest.
  const numbers = (t: string[]) => t.filter((w) => NUMBERING.test(w)).join(' ');
  if (x.join('') === y.join('')) return true;
  if (isAcronymOf(x, y) || isAcronymOf(y, x)) return true;
  if (numbers(x) !== numbers(y)) return false;
  const content = (t: string[]) => t.filter((w) => !GLUE.has(w)).map(singular);
  if (sameSet(content(x), content(y))) return true;
  if (type === 'organization') {
    const [short, long] = x.length <= y.length ? [x, y] : [y, x];
    const head = long.slice(0, short.length);
    return (
      head.join(' ') === short.join(' ') &&
      long.slice(short.length).every((w) => COMPANY_WORDS.has(w) || GLUE.has(w))
    );
  }
  return false;
}

const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/**
 * For each of an episode's entities, the library entity (or an earlier entity of the same
 * episode) it is by meaning, if any: the best-scoring compatible name at or above `threshold`,
 * unless another entity scores within `margin` of it. `embed` returns unit vectors (an
 * Embedder's). Options: threshold (default ENTITY_MERGE_THRESHOLD), margin (default
 * ENTITY_MERGE_MARGIN).
 */
export async function proposeEntityMatches(
  entities: readonly MatchableEntity[],
  candidates: readonly CandidateEntity[],
  embed: (texts: string[]) => Promise<Float32Array[]>,
  options: { threshold?: number; margin?: number } = {},
): Promise<Record<string, EntityMatch>> {
  const threshold = options.threshold ?? ENTITY_MERGE_THRESHOLD;
  const margin = options.margin ?? ENTITY_MERGE_MARGIN;
  interface Pair {
    entity: MatchableEntity;
    target: { canonicalId: number | null; localId: string | null };
    name: string;
  }
  const pairs: Pair[] = [];
  entities.forEach((e, i) => {
    for (const c of candidates) {
      if (c.type !== e.type) continue;
      for (const name of new Set([c.name, ...c.aliases]))
        if (namesCompatible(e.type, e.name, name))
          pairs.push({ entity: e, target: { canonicalId: c.id, localId: null }, name });
    }
    for (const earlier of entities.slice(0, i))
      if (earlier.type === e.type && namesCompatible(e.type, e.name, earlier.name))
        pairs.push({ entity: e, target: { canonicalId: null, localId: earlier.id }, name: earlier.name });
  });
  if (pairs.length === 0) return {};
  const texts = [...new Set(pairs.flatMap((p) => [p.entity.name, p.name]))];
  const vectors = new Map<string, Float32Array>();
  (await embed(texts)).forEach((v, i) => vectors.set(texts[i]!, v));

  const best = new Map<string, { match: EntityMatch; key: string }[]>();
  for (const p of pairs) {
    const score = dot(vectors.get(p.entity.name)!, vectors.get(p.name)!);
    const key = p.target.canonicalId !== null ? `c${p.target.canonicalId}` : `l${p.target.localId}`;
    const list = best.get(p.entity.id) ?? [];
    const same = list.find((s) => s.key === key);
    if (same && same.match.score >= score) continue;
    const match: EntityMatch = { ...p.target, matchedName: p.name, score };
    if (same) same.match = match;
    else list.push({ match, key });
    best.set(p.entity.id, list);
  }
  const out: Record<string, EntityMatch> = {};
  for (const [id, list] of best) {
    list.sort((a, b) => b.match.score - a.match.score);
    const [first, second] = list;
    if (!first || first.match.score < threshold) continue;
    if (second && first.match.score - second.match.score < margin) continue;
    out[id] = { ...first.match, score: Math.round(first.match.score * 1e4) / 1e4 };
  }
  return out;
}
