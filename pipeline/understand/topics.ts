import type { Analysis, Token } from './nlp.ts';
import { GENERIC_NOUNS, WEAK_MODIFIERS } from './gazetteer.ts';
import { normalizeName } from './names.ts';
import nlp from 'compromise';

/**
 * Key phrases: what an episode is about, as phrases ("podcast trailer", "show notes", "solid
 * state batteries"), not single generic nouns ("couple", "instance", "notes").
 *
 * 1. Chunks: runs of nouns and adjectives (wink-nlp's tags; hyphenated compounds such as
 *    "dollar-cost" are one word; a gerund may end a run: "dollar-cost averaging"), cut at names
 *    (a capitalized word that is not a sentence's first and is never written in lower case).
 * 2. Candidates: every run of one to four words inside a chunk that ends in a noun. A phrase
 *    may not start with a stop word or a vague adjective ("new", "big"); a single word must be
 *    a noun of four letters or more that is not a common noun (gazetteers/generic-nouns.json);
 *    a longer phrase needs a word that is not common, or to be nouns only ("show notes").
 * 3. Score (a RAKE-like mix of frequency and specificity):
 *      count × (1 + 0.8 (words − 1)) + 0.3 × Σ over its uncommon words (their count − count)
 *    so a phrase said often scores, and so does one said once whose words recur ("urban heat
 *    island" in an episode about heat). Kept: score ≥ 2.7, and a single word said 3 times or more.
 *    A vague adjective anywhere ("show last spring") or a common noun at the end ("worth less
 *    today") rules a phrase out; a past participle may modify ("failed experiments").
 * 4. Chosen best first; a phrase inside a chosen one ("trailer" in "podcast trailer") is kept
 *    only if said at least 2 more times on its own (3 for a single word); a phrase around a chosen
 *    one only if said twice.
 */
export interface KeyPhrase {
  /** Its most frequent written form, lower case (acronyms kept). */
  name: string;
  forms: string[];
  spans: { start: number; end: number }[];
  score: number;
}

interface Word {
  start: number;
  end: number;
  stem: string;
  text: string;
  noun: boolean;
  /** Can be part of a key phrase (noun, adjective, compound, gerund head). */
  ok: boolean;
  gerund: boolean;
  /** A past participle ("failed", "raised"): may modify a noun, never ends a phrase. */
  participle: boolean;
  /** A plural noun: it ends a phrase ("climate tools"); inside one it is most often a verb wink took for a noun ("chemistry rewards people"). */
  plural: boolean;
  stop: boolean;
  generic: boolean;
  sentence: number;
}

const WORDLIKE = /^[\p{L}][\p{L}'’]*$/u;

function wordsOf(text: string, a: Analysis, names: (tk: Token, i: number) => boolean): Word[] {
  const { tokens } = a;
  const out: Word[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tk = tokens[i]!;
    if (tk.type !== 'word') {
      out.push({ ...blank(tk), ok: false });
      continue;
    }
    // A hyphenated compound: word-word(-word), written without spaces.
    let j = i;
    while (
      tokens[j + 2] &&
      tokens[j + 1]!.value === '-' &&
      tokens[j + 1]!.start === tokens[j]!.end &&
      tokens[j + 2]!.start === tokens[j + 1]!.end &&
      tokens[j + 2]!.type === 'word'
    )
      j += 2;
    if (j > i) {
      const parts = tokens.slice(i, j + 1).filter((p) => p.type === 'word');
      const last = parts[parts.length - 1]!;
      out.push({
        start: tk.start,
        end: tokens[j]!.end,
        stem: parts.map((p) => p.stem).join('-'),
        text: text.slice(tk.start, tokens[j]!.end),
        noun: last.pos === 'NOUN' || last.pos === 'PROPN',
        ok: parts.every((p) => /^[\p{L}\p{N}]+$/u.test(p.value)),
        gerund: false,
        participle: false,
        plural: false,
        stop: false,
        generic: false,
        sentence: tk.sentence,
      });
      i = j;
      continue;
    }
    const name = names(tk, i);
    const commonProper = tk.pos === 'PROPN' && !name;
    const noun = tk.pos === 'NOUN' || commonProper;
    // "has started", "was raised", "started asking": a verb, not a modifier.
    const prevPos = i > 0 ? tokens[i - 1]!.pos : 'PUNCT';
    const afterVerb = prevPos === 'AUX' || prevPos === 'PRON' || prevPos === 'VERB' || prevPos === 'PART';
    const gerund = tk.pos === 'VERB' && /ing$/.test(tk.normal) && !afterVerb;
    const participle = tk.pos === 'VERB' && /ed$/.test(tk.normal) && !tk.stop && !afterVerb;
    out.push({
      start: tk.start,
      end: tk.end,
      stem: tk.stem,
      text: tk.value,
      noun,
      ok:
        WORDLIKE.test(tk.value) &&
        tk.value.length > 1 &&
        (noun || tk.pos === 'ADJ' || gerund || participle) &&
        !name,
      gerund,
      participle,
      plural: noun && isPlural(tk.normal),
      stop: tk.stop,
      generic: GENERIC_NOUNS.has(tk.normal),
      sentence: tk.sentence,
    });
  }
  return out;
}

function blank(tk: Token): Omit<Word, 'ok'> {
  return {
    start: tk.start,
    end: tk.end,
    stem: tk.stem,
    text: tk.value,
    noun: false,
    gerund: false,
    participle: false,
    plural: false,
    stop: true,
    generic: false,
    sentence: tk.sentence,
  };
}

interface Candidate {
  key: string;
  n: number;
  words: string[];
  gerund: boolean;
  compound: boolean;
  commonOnly: boolean;
  /** The sentence of its first occurrence, and where its nouns are in it (checked with compromise). */
  sentence: number;
  nouns: { start: number; end: number }[];
  uncommon: string[];
  forms: Map<string, number>;
  spans: { start: number; end: number }[];
}

/**
 * The episode's key phrases, best first (at most `max`). `isName(token, index)` says which
 * capitalized tokens are names (they cut phrases); `taken` are names already found as people,
 * organizations or places (normalized), never repeated as topics.
 */
export function keyPhrases(
  text: string,
  a: Analysis,
  isName: (tk: Token, i: number) => boolean,
  taken: ReadonlySet<string>,
  max: number,
): KeyPhrase[] {
  const words = wordsOf(text, a, isName);
  const candidates = new Map<string, Candidate>();
  const freq = new Map<string, number>();
  let i = 0;
  while (i < words.length) {
    if (!words[i]!.ok) {
      i++;
      continue;
    }
    let j = i;
    while (j < words.length && words[j]!.ok && words[j]!.sentence === words[i]!.sentence) j++;
    const chunk = words.slice(i, j);
    for (const w of chunk) if (w.noun) freq.set(w.stem, (freq.get(w.stem) ?? 0) + 1);
    // Every run of 1-4 words ending in a noun (or a gerund after a noun: "machine learning").
    for (let end = 0; end < chunk.length; end++) {
      const head = chunk[end]!;
      for (let start = Math.max(0, end - 3); start <= end; start++) {
        const ws = chunk.slice(start, end + 1);
        if (!(head.noun || (head.gerund && ws.length > 1 && ws[ws.length - 2]!.noun))) continue;
        if (!valid(ws)) continue;
        const key = ws.map((w) => w.stem).join(' ');
        let c = candidates.get(key);
        if (!c) {
          c = {
            key,
            n: ws.length,
            words: ws.map((w) => w.stem),
            gerund: head.gerund,
            compound: ws.some((w) => w.text.includes('-')),
            commonOnly: ws.every((w) => w.generic || w.stop),
            sentence: head.sentence,
            nouns: ws.filter((w) => w.noun).map((w) => ({ start: w.start, end: w.end })),
            uncommon: ws.filter((w) => !w.generic && !w.stop).map((w) => w.stem),
            forms: new Map(),
            spans: [],
          };
          candidates.set(key, c);
        }
        const form = text.slice(ws[0]!.start, head.end).replace(/\s+/g, ' ');
        const shown = form
          .split(' ')
          .map((w) => (/^\p{Lu}{2,}$/u.test(w) ? w : w.toLowerCase()))
          .join(' ');
        c.forms.set(shown, (c.forms.get(shown) ?? 0) + 1);
        c.spans.push({ start: ws[0]!.start, end: head.end });
      }
    }
    i = j;
  }
  const scored = [...candidates.values()]
    .map((c) => {
      const count = c.spans.length;
      const spread = c.uncommon.reduce((s, w) => s + Math.max(0, (freq.get(w) ?? 0) - count), 0);
      return { c, count, score: count * (1 + 0.8 * (c.n - 1)) + 0.3 * spread };
    })
    .filter(
      (x) =>
        x.score >= 1.8 &&
        (x.c.n > 1 || x.count >= 3) &&
        // Said once, a phrase of common words ("guest today") or one ending in a gerund
        // ("official listening") is most often not a topic; "machine learning" said twice is.
        (x.count >= 2 || (!x.c.commonOnly && (!x.c.gerund || x.c.compound))),
    )
    .sort((x, y) => y.score - x.score || y.c.n - x.c.n || x.c.key.localeCompare(y.c.key));
  const chosen: typeof scored = [];
  const covered: { start: number; end: number }[] = [];
  // An occurrence inside or across a chosen phrase's ("trailer" in "podcast trailer", "media
  // platform" across "social media"); one around a chosen phrase ("urban heat island" around
  // "heat") is its own.
  const overlaps = (s: { start: number; end: number }) =>
    covered.some((o) => s.start < o.end && o.start < s.end && !(s.start <= o.start && o.end <= s.end));
  for (const x of scored) {
    if (chosen.length >= max) break;
    const name = [...x.c.forms.entries()].sort((p, q) => q[1] - p[1])[0]![0];
    if (taken.has(normalizeName(name))) continue;
    // Said on its own, not only as part of a phrase already chosen ("trailer" in "podcast trailer").
    const alone = x.c.spans.filter((sp) => !overlaps(sp)).length;
    if (alone < (x.c.n === 1 ? 3 : 1)) continue;
    if (x.count <= 2 && !nounsAreNouns(text, a, x.c)) continue;
    chosen.push(x);
    covered.push(...x.c.spans);
  }
  return chosen.map((x) => {
    const forms = [...x.c.forms.entries()].sort((p, q) => q[1] - p[1]).map(([f]) => f);
    return { name: forms[0]!, forms, spans: x.c.spans, score: Number(x.score.toFixed(2)) };
  });
}

function valid(ws: Word[]): boolean {
  const first = ws[0]!;
  const head = ws[ws.length - 1]!;
  if (first.stop && !first.noun) return false;
  if (ws.some((w) => WEAK_MODIFIERS.has(w.text.toLowerCase()))) return false;
  if (ws.length === 1) return first.noun && !first.generic && !first.stop && first.text.length > 3;
  if (ws.slice(0, -1).some((w) => w.plural)) return false;
  // A common noun ends a phrase only right after a noun ("show notes", "climate tools").
  const before = ws[ws.length - 2]!;
  if (head.generic && !(before.noun && (ws.length === 2 || !before.generic))) return false;
  return ws.every((w) => w.noun) || ws.some((w) => !w.generic && !w.stop);
}

/** Nouns that end in -s and are no plural: "savings account", "news anchor", "physics lab". */
const S_SINGULARS = new Set(
  'savings news sports series species arts goods sales clothes earnings means headquarters politics economics physics mathematics ethics electronics athletics gymnastics robotics genetics logistics diabetes measles'.split(
    ' ',
  ),
);

function isPlural(word: string): boolean {
  return /[^su]s$/.test(word) && !/(ss|us|is)$/.test(word) && !S_SINGULARS.has(word);
}

/**
 * wink-nlp's lite model takes some verbs for nouns ("the forecast drops", "microbes need
 * oxygen"); a phrase said once or twice is kept only if compromise, reading its sentence, agrees
 * that its nouns are nouns.
 */
function nounsAreNouns(text: string, a: Analysis, c: Candidate): boolean {
  const s = a.sentences[c.sentence];
  if (!s) return true;
  const doc = nlp(text.slice(s.start, s.end));
  const terms = (
    doc.json({ offset: true }) as { terms: { tags: string[]; offset: { start: number } }[] }[]
  ).flatMap((x) => x.terms);
  return c.nouns.every((w) => {
    const term = terms.find((tm) => s.start + tm.offset.start === w.start);
    return !term || term.tags.includes('Noun') || !term.tags.includes('Verb');
  });
}
