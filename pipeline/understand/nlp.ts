import winkNLP, { type PartOfSpeech, type WinkMethods } from 'wink-nlp';
import model from 'wink-eng-lite-web-model';

/**
 * wink-nlp over the transcript's full text: tokens (with char offsets, part of speech, stems)
 * and sentences. The model loads once per worker process (about 10 ms) and is kept.
 */
let nlp: WinkMethods | null = null;
function engine(): WinkMethods {
  nlp ??= winkNLP(model);
  return nlp;
}

export interface Token {
  value: string;
  /** Lower-cased. */
  normal: string;
  stem: string;
  pos: PartOfSpeech;
  type: string;
  stop: boolean;
  start: number;
  end: number;
  sentence: number;
}

export interface Sentence {
  index: number;
  start: number;
  end: number;
  /** Indices into the token list. */
  first: number;
  last: number;
}

export interface Analysis {
  tokens: Token[];
  sentences: Sentence[];
}

/**
 * Tokens and sentences of `text`. `breaks` (offsets, e.g. where a new speaker's turn starts)
 * always end a sentence: a turn without closing punctuation does not run on into the next.
 */
export function analyze(text: string, breaks: readonly number[] = []): Analysis {
  const w = engine();
  const { its } = w;
  const doc = w.readDoc(text);
  const values = doc.tokens().out(its.value) as string[];
  const normals = doc.tokens().out(its.normal) as string[];
  const stems = doc.tokens().out(its.stem as unknown as typeof its.normal) as string[];
  const pos = doc.tokens().out(its.pos) as PartOfSpeech[];
  const types = doc.tokens().out(its.type) as string[];
  const stops = doc.tokens().out(its.stopWordFlag) as boolean[];
  const spans = doc.sentences().out(its.span) as unknown as [number, number][];
  const sentenceOf = new Int32Array(values.length);
  spans.forEach(([a, b], si) => {
    for (let i = a; i <= b; i++) sentenceOf[i] = si;
  });
  const tokens: Token[] = [];
  let cursor = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // wink keeps each token's text as written; find it from where the last one ended.
    let at = text.indexOf(v, cursor);
    if (at === -1 || at - cursor > 64) at = cursor;
    const end = Math.min(text.length, at + v.length);
    tokens.push({
      value: v,
      normal: normals[i]!,
      stem: stems[i]!,
      pos: pos[i]!,
      type: types[i]!,
      stop: stops[i]!,
      start: at,
      end,
      sentence: sentenceOf[i]!,
    });
    cursor = end;
  }
  const ranges = breaks.length > 0 ? splitAt(spans, tokens, breaks) : spans;
  const sentences: Sentence[] = ranges.map(([a, b], index) => {
    for (let i = a; i <= b; i++) tokens[i]!.sentence = index;
    return { index, first: a, last: b, start: tokens[a]?.start ?? 0, end: tokens[b]?.end ?? 0 };
  });
  return { tokens, sentences };
}

/** Token ranges of sentences, cut wherever a break offset falls inside one. */
function splitAt(spans: [number, number][], tokens: Token[], breaks: readonly number[]): [number, number][] {
  const sorted = [...breaks].sort((x, y) => x - y);
  const out: [number, number][] = [];
  let k = 0;
  for (const [a, b] of spans) {
    let first = a;
    for (let i = a + 1; i <= b; i++) {
      const at = tokens[i]!.start;
      while (k < sorted.length && sorted[k]! <= tokens[first]!.start) k++;
      if (k < sorted.length && sorted[k]! <= at) {
        out.push([first, i - 1]);
        first = i;
      }
    }
    out.push([first, b]);
  }
  return out;
}
