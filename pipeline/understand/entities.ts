import type { Analysis, Token } from './nlp.ts';
import { spanOf, type TranscriptText } from './text.ts';
import {
  GENERIC_NOUNS,
  KNOWN_ORGS,
  NOT_NAMES,
  ORG_PREFIXES,
  ORG_SUFFIXES,
  PERSON_TITLES,
  PLACES,
} from './gazetteer.ts';
import { displayName, normalizeName } from './names.ts';
import { isNotNounTag, isOrgTag, isPersonTag, isPlaceTag, type TermTags } from './evidence.ts';
import type { Turns } from './speakers.ts';
import { keyPhrases } from './topics.ts';
import {
  MAX_ENTITIES,
  MAX_MENTIONS_PER_ENTITY,
  MAX_RELATION_QUOTES,
  MAX_RELATIONS,
  MAX_TOPICS,
  type EntityRole,
  type EntityType,
  type KgEntity,
  type KgRelation,
} from './types.ts';

/**
 * The classic tier's entities. Names are runs of capitalized words (wink-nlp's tokens), typed by
 * evidence, never by capitalization alone:
 * - compromise's lexicon and tagger (evidence.ts): first and last names, honorifics, cities,
 *   countries, organizations, and words that are adjectives or verbs rather than names;
 * - the gazetteers (data files in ./gazetteers): titles, organization words at a name's end or
 *   start ("… Robotics", "University of …"), well-known organizations and platforms, places;
 * - context cues: a title before it ("Dr."), "at X" / "founded X" / "joined X" / "our hosting
 *   company, X", "in X" / "from X" for places, "X said" / "X, who" for people, introductions
 *   ("my guest", "joining me", "welcome, …") and "I'm …";
 * - speakers: a `<v Name>` voice or a "Name:" prefix (speakers.ts) is a person, whether or not
 *   anyone says their name; their mentions count the times they are named plus the turns they
 *   take (`turns`).
 * A name with no evidence at all is a topic if it is several words ("Podcasting Q&A") or recurs
 * inside sentences ("Kubernetes"), and nothing otherwise. Topics are the episode's key phrases
 * (topics.ts), with such names.
 * Aliases: a single word that is the first or last word of exactly one full person name in the
 * episode ("Mara" → "Mara Quinn"), the first word of an organization ("Stanford" → "Stanford
 * University"), and every written form (with a title, possessive…).
 * Roles: host = the feed's author, or the one who introduces the show ("I'm …", "your host …"),
 * or the first speaker; guest = introduced in the conversation or a further speaker;
 * everyone else is mentioned.
 */

export interface EntityMeta {
  /** The feed's author (iTunes author / managing editor): usually the host. */
  host?: string | null;
  showTitle?: string | null;
  episodeTitle?: string | null;
}

interface Candidate {
  start: number;
  end: number;
  tokens: number[];
  surface: string;
  norm: string;
  sentence: number;
  /** Its first word starts a sentence. */
  sentenceStart: boolean;
  votes: Partial<Record<EntityType, number>>;
  guestCue: boolean;
  hostCue: boolean;
}

const CONNECTORS = new Set(['of', 'de', 'van', 'von', 'da', 'del', 'der', 'la', 'le', 'bin', 'al', '&']);
const ORG_CUES = /\b(at|founded|co-founded|joined|joining|for|with|acquired|acquire|by)\s+(the\s+)?$/i;
const ORG_STRONG_CUES =
  /\b(founded|co-founded|joined|works? for|worked for|acquired|ceo of|cto of)\s+(the\s+)?$/i;
const PLACE_CUES = /\b(in|from|to|near|across|around|outside)\s+$/i;
const PERSON_VERBS =
  /^['’]?s?\s*(,\s*who\b|said\b|says\b|told\b|wrote\b|argues\b|thinks\b|believes\b|calls\b|points out\b)/i;
const GUEST_CUES =
  /\b(my guests?(\s+today)?(\s+(is|are))?|our guests?(\s+today)?(\s+(is|are))?|joining (me|us)(\s+today)?(\s+(is|are))?|joined by|(i'?m|we'?re) (here |sitting )?(talking |speaking )?with|talking (with|to)|speaking with|sitting down with|with (me|us) (today|now)( is| are)?|please welcome|welcome( back)?( to the show)?,?|say hello to|introduce)\s*[:,]?\s*(dr\.?\s+|professor\s+)?$/i;
const HOST_CUES = /\b(i'?m|i am|my name is|this is|your host,?|hosted by|i'?m your host,?)\s*$/i;
const ORG_APPOSITION =
  /\b(company|companies|startup|firm|organi[sz]ation|nonprofit|non-profit|charity|agency|platform|app|brand|publisher|network|label|studio|provider|service)(,|\s+called|\s+named)\s+$/i;

function isCapitalized(v: string): boolean {
  return /^\p{Lu}/u.test(v) && /\p{L}/u.test(v);
}

function nameToken(tk: Token): boolean {
  return (
    isCapitalized(tk.value) &&
    !/['’](m|s|re|ve|ll|d|t)$/i.test(tk.value) &&
    (tk.pos === 'PROPN' || tk.pos === 'NOUN' || tk.pos === 'ADJ' || tk.pos === 'X' || tk.pos === 'NUM') &&
    tk.type === 'word'
  );
}

function vote(c: Candidate, type: EntityType, weight: number): void {
  c.votes[type] = (c.votes[type] ?? 0) + weight;
}

/** What the tier knows besides the text: the speakers' turns and compromise's tags. */
export interface EntityContext {
  turns: Turns;
  tags: ReadonlyMap<number, TermTags>;
}

/** Lower-case forms the transcript uses: a capitalized word also written this way is a common word. */
function lowerForms(a: Analysis): Set<string> {
  const seen = new Set<string>();
  for (const tk of a.tokens) if (/^\p{Ll}/u.test(tk.value)) seen.add(tk.normal);
  return seen;
}

function candidates(t: TranscriptText, a: Analysis, ctx: EntityContext): Candidate[] {
  const { tokens } = a;
  // Words the transcript also writes in lower case are common words, not names, when they
  // start a sentence ("Welcome", "Today", "Honestly").
  const lowerSeen = lowerForms(a);
  const sentenceStart = new Set(a.sentences.map((s) => s.first));
  const out: Candidate[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (!nameToken(tokens[i]!)) continue;
    const run = [i];
    let j = i + 1;
    while (j < tokens.length) {
      const tk = tokens[j]!;
      if (nameToken(tk) && tk.sentence === tokens[i]!.sentence) {
        run.push(j);
        j++;
      } else if (CONNECTORS.has(tk.normal) && tokens[j + 1] && nameToken(tokens[j + 1]!)) {
        run.push(j, j + 1);
        j += 2;
      } else break;
    }
    i = j - 1;
    // Trim words that are not names: a common word starting a sentence, interjections, and
    // words compromise reads as adjectives or verbs ("Short answer", "Joining me").
    const notName = (k: number) => {
      const tk = tokens[k]!;
      return (
        NOT_NAMES.has(tk.normal) ||
        (sentenceStart.has(k) && (lowerSeen.has(tk.normal) || tk.stop)) ||
        (isNotNounTag(ctx.tags.get(tk.start)) && !isPersonTag(ctx.tags.get(tk.start)))
      );
    };
    while (run.length > 0 && notName(run[0]!)) {
      run.shift();
      while (run.length > 0 && CONNECTORS.has(tokens[run[0]!]!.normal)) run.shift();
    }
    while (run.length > 0 && NOT_NAMES.has(tokens[run[run.length - 1]!]!.normal)) run.pop();
    if (run.length === 0 || run.length > 5) continue;
    const first = tokens[run[0]!]!;
    const last = tokens[run[run.length - 1]!]!;
    const surface = t.text.slice(first.start, last.end);
    const norm = normalizeName(surface);
    if (norm.length < 2 || /^\d+$/.test(norm)) continue;
    const c: Candidate = {
      start: first.start,
      end: last.end,
      tokens: run,
      surface,
      norm,
      sentence: first.sentence,
      sentenceStart: sentenceStart.has(run[0]!),
      votes: {},
      guestCue: false,
      hostCue: false,
    };
    classify(c, t, tokens, ctx, lowerSeen);
    out.push(c);
  }
  return out;
}

function classify(
  c: Candidate,
  t: TranscriptText,
  tokens: Token[],
  ctx: EntityContext,
  lowerSeen: ReadonlySet<string>,
): void {
  const words = c.norm.split(' ');
  const before = t.text.slice(Math.max(0, c.start - 60), c.start);
  const after = t.text.slice(c.end, c.end + 40);
  const prev = tokens[c.tokens[0]! - 1];
  const tags = c.tokens.map((i) => ctx.tags.get(tokens[i]!.start));
  if (prev && PERSON_TITLES.has(prev.normal.replace(/\.$/, ''))) vote(c, 'person', 5);
  if (ORG_SUFFIXES.has(words[words.length - 1]!) && words.length > 1) vote(c, 'organization', 4);
  if (ORG_PREFIXES.has(words[0]!) && words.length > 1) vote(c, 'organization', 4);
  if (words.length > 2 && words.slice(1, -1).some((w) => ORG_SUFFIXES.has(w))) vote(c, 'organization', 3);
  if (KNOWN_ORGS.has(c.norm)) vote(c, 'organization', 4);
  if (PLACES.has(c.norm)) vote(c, 'place', 4);
  if (ORG_STRONG_CUES.test(before) || ORG_APPOSITION.test(before)) vote(c, 'organization', 2);
  else if (ORG_CUES.test(before) && words.length === 1 && !PLACES.has(c.norm)) vote(c, 'organization', 1);
  // compromise: names it knows (first and last names, cities and countries, organizations).
  const first = tags[0];
  const last = tags[tags.length - 1];
  if (isPersonTag(first) || isPersonTag(last)) vote(c, 'person', 2);
  if (tags.some(isPlaceTag) && !PLACES.has(c.norm)) vote(c, 'place', words.length === 1 ? 2 : 1);
  if (tags.some(isOrgTag) && !KNOWN_ORGS.has(c.norm)) vote(c, 'organization', 2);
  // "a question from Priya in Ohio", "a call from Dave in Leeds": a listener, then their place.
  const placeAfter = /^\s+(?:in|from)\s+(\p{Lu}[\p{L}'’-]*(?:\s+\p{Lu}[\p{L}'’-]*)?)/u.exec(after);
  const listener =
    words.length === 1 &&
    !PLACES.has(c.norm) &&
    /\bfrom\s+$/i.test(before) &&
    placeAfter !== null &&
    PLACES.has(normalizeName(placeAfter[1]!));
  if (listener) vote(c, 'person', 2);
  else if (PLACE_CUES.test(before) && words.length <= 2 && !isPersonTag(first)) vote(c, 'place', 1);
  if (PERSON_VERBS.test(after)) vote(c, 'person', 2);
  if (GUEST_CUES.test(before)) {
    c.guestCue = true;
    vote(c, 'person', 3);
  }
  if (HOST_CUES.test(before)) {
    c.hostCue = true;
    vote(c, 'person', 1);
  }
  // Two or three capitalized words that compromise reads as nouns (not verbs, places or
  // organizations) and nothing else types are most often a person's name ("Amara Okafor"),
  // unless one of them is a common word the transcript also writes in lower case: then it is
  // the name of a thing ("Mars Sample Return" beside "a sample").
  if (
    words.length >= 2 &&
    words.length <= 3 &&
    c.tokens.every((i) => /^\p{Lu}\p{Ll}+$/u.test(tokens[i]!.value) && !/ing$/.test(tokens[i]!.normal)) &&
    !tags.some((x) => isPlaceTag(x) || isOrgTag(x) || isNotNounTag(x)) &&
    !words.some((w) => GENERIC_NOUNS.has(w)) &&
    !c.tokens.some((i) => lowerSeen.has(tokens[i]!.normal))
  )
    vote(c, 'person', 1);
}

interface Group {
  norm: string;
  surfaces: Map<string, number>;
  mentions: { start: number; end: number; sentence: number; sentenceStart: boolean }[];
  votes: Partial<Record<EntityType, number>>;
  guestCue: boolean;
  hostCue: boolean;
  speaker: boolean;
  turns: number;
  aliasNorms: Set<string>;
  type?: EntityType;
}

function bestType(votes: Partial<Record<EntityType, number>>): EntityType | null {
  let best: EntityType | null = null;
  let score = 0;
  for (const type of ['person', 'organization', 'place'] as const) {
    const v = votes[type] ?? 0;
    if (v > score) {
      best = type;
      score = v;
    }
  }
  return best;
}

function wordsOf(norm: string): string[] {
  return norm.split(' ');
}

export interface EntityResult {
  entities: KgEntity[];
  relations: KgRelation[];
}

export function extractEntities(
  t: TranscriptText,
  a: Analysis,
  meta: EntityMeta,
  ids: { episode: string; show: string | null },
  ctx: EntityContext,
): EntityResult {
  const groups = new Map<string, Group>();
  const group = (norm: string): Group => {
    let g = groups.get(norm);
    if (!g) {
      g = {
        norm,
        surfaces: new Map(),
        mentions: [],
        votes: {},
        guestCue: false,
        hostCue: false,
        speaker: false,
        turns: 0,
        aliasNorms: new Set(),
      };
      groups.set(norm, g);
    }
    return g;
  };
  for (const c of candidates(t, a, ctx)) {
    const g = group(c.norm);
    g.surfaces.set(c.surface, (g.surfaces.get(c.surface) ?? 0) + 1);
    g.mentions.push({ start: c.start, end: c.end, sentence: c.sentence, sentenceStart: c.sentenceStart });
    for (const [k, v] of Object.entries(c.votes))
      g.votes[k as EntityType] = (g.votes[k as EntityType] ?? 0) + v;
    g.guestCue ||= c.guestCue;
    g.hostCue ||= c.hostCue;
  }
  // Speakers are people, whether or not anyone says their name.
  const speakerOrder: string[] = [];
  for (const [speaker, turns] of ctx.turns.turns) {
    const norm = normalizeName(speaker);
    if (!norm) continue;
    if (!speakerOrder.includes(norm)) speakerOrder.push(norm);
    const g = group(norm);
    g.speaker = true;
    g.turns += turns;
    g.votes.person = (g.votes.person ?? 0) + 10;
    if (!g.surfaces.has(speaker)) g.surfaces.set(displayName(speaker), 0);
  }
  const hostNorm = meta.host ? normalizeName(meta.host) : null;
  // The show itself is the graph's show node, not one of its entities.
  const showNorm = meta.showTitle ? normalizeName(meta.showTitle) : '';
  if (showNorm && groups.has(showNorm) && !groups.get(showNorm)!.speaker) groups.delete(showNorm);
  for (const g of groups.values()) g.type = bestType(g.votes) ?? undefined;

  // Aliases: single words that are part of exactly one longer name of the same kind.
  const multi = [...groups.values()].filter((g) => wordsOf(g.norm).length > 1);
  for (const g of [...groups.values()]) {
    const w = wordsOf(g.norm);
    if (w.length !== 1) continue;
    const owners = multi.filter((m) => {
      const mw = wordsOf(m.norm);
      // A speaker label is a first name ("Lena" speaking is the "Lena Ortiz" the text names).
      if (g.speaker) return m.type === 'person' && mw[0] === w[0];
      if (m.type === 'person') return mw[0] === w[0] || mw[mw.length - 1] === w[0];
      if (m.type === 'organization') return mw[0] === w[0];
      return false;
    });
    if (owners.length !== 1) continue;
    const owner = owners[0]!;
    // A known place or org word ("Washington") stays itself unless the text never types it.
    if (g.type && g.type !== owner.type && (g.votes[g.type] ?? 0) >= 4) continue;
    for (const [s, n] of g.surfaces) owner.surfaces.set(s, (owner.surfaces.get(s) ?? 0) + n);
    owner.mentions.push(...g.mentions);
    owner.guestCue ||= g.guestCue;
    owner.hostCue ||= g.hostCue;
    owner.speaker ||= g.speaker;
    owner.turns += g.turns;
    owner.aliasNorms.add(g.norm);
    groups.delete(g.norm);
  }

  // Roles.
  const introEnd = Math.max(400, Math.floor(t.text.length * 0.2));
  const roleOf = (g: Group): EntityRole => {
    if (g.type !== 'person') return 'mentioned';
    if (hostNorm && (g.norm === hostNorm || (hostNorm.includes(g.norm) && wordsOf(g.norm).length > 1)))
      return 'host';
    if (g.hostCue && g.mentions.some((m) => m.start < introEnd)) return 'host';
    if (g.guestCue) return 'guest';
    const firstSpeaker = speakerOrder[0] === g.norm || g.aliasNorms.has(speakerOrder[0] ?? '');
    if (g.speaker) return firstSpeaker && !hostNorm ? 'host' : 'guest';
    return 'mentioned';
  };

  const named: KgEntity[] = [];
  for (const g of groups.values()) {
    if (!g.type) {
      // A name nothing types is a topic when it is several words, or recurs with one use at
      // least inside a sentence ("the Perseverance rover" … "Perseverance found"): a common
      // word the transcript also writes in lower case was not taken at a sentence's start.
      const inside = g.mentions.filter((m) => !m.sentenceStart).length;
      if (wordsOf(g.norm).length > 1 || (inside >= 1 && g.mentions.length >= 2)) g.type = 'topic';
      else continue;
    }
    const surfaces = [...g.surfaces.entries()].sort(
      (x, y) => wordsOf(y[0]).length - wordsOf(x[0]).length || y[1] - x[1],
    );
    const name = displayName(surfaces[0]![0]);
    const aliases = [
      ...new Set(surfaces.map(([s]) => displayName(s)).concat(surfaces.map(([s]) => s))),
    ].filter((s) => s !== name);
    g.mentions.sort((x, y) => x.start - y.start);
    named.push({
      id: '',
      name,
      type: g.type,
      role: roleOf(g),
      aliases,
      mentionCount: g.mentions.length + g.turns,
      ...(g.speaker ? { turns: g.turns } : {}),
      mentions: g.mentions.slice(0, MAX_MENTIONS_PER_ENTITY).map((m) => spanOf(t, m.start, m.end)),
    });
  }
  // A host named in the feed but identified by cue only once is still the host: at most one host.
  const hosts = named.filter((e) => e.role === 'host');
  for (const extra of hosts.slice(1)) extra.role = 'guest';

  const taken = new Set(named.map((e) => normalizeName(e.name)));
  if (showNorm) taken.add(showNorm);
  const nameAt = new Set(
    named.filter((e) => e.type !== 'topic').flatMap((e) => e.mentions.map((m) => m.charStart)),
  );
  const lowerSeen = lowerForms(a);
  const sentenceStart = new Set(a.sentences.map((s) => s.first));
  const phrases = keyPhrases(
    t.text,
    a,
    (tk, i) =>
      nameAt.has(tk.start) ||
      (/^\p{Lu}/u.test(tk.value) && !sentenceStart.has(i) && !lowerSeen.has(tk.normal)),
    taken,
    MAX_TOPICS,
  );
  const topics: KgEntity[] = phrases.map((p) => ({
    id: '',
    name: p.name,
    type: 'topic',
    role: 'mentioned',
    aliases: p.forms.filter((f) => f !== p.name),
    mentionCount: p.spans.length,
    mentions: p.spans.slice(0, MAX_MENTIONS_PER_ENTITY).map((s) => spanOf(t, s.start, s.end)),
  }));
  const rank = (e: KgEntity) => (e.role === 'host' ? 2 : e.role === 'guest' ? 1 : 0);
  const people = named
    .filter((e) => e.type !== 'topic')
    .sort((x, y) => rank(y) - rank(x) || y.mentionCount - x.mentionCount || x.name.localeCompare(y.name));
  // Named topics first (a name nothing else types), then the key phrases, best first.
  const allTopics = [
    ...named.filter((e) => e.type === 'topic').sort((x, y) => y.mentionCount - x.mentionCount),
    ...topics,
  ].slice(0, MAX_TOPICS);
  const entities = [
    ...people.slice(0, MAX_ENTITIES - Math.min(allTopics.length, MAX_TOPICS)),
    ...allTopics,
  ].slice(0, MAX_ENTITIES);
  entities.forEach((e, i) => (e.id = `e${i + 1}`));
  return { entities, relations: relationsOf(t, a, entities, ids) };
}

function relationsOf(
  t: TranscriptText,
  a: Analysis,
  entities: KgEntity[],
  ids: { episode: string; show: string | null },
): KgRelation[] {
  const sentenceOf = (offset: number) => {
    let lo = 0;
    let hi = a.sentences.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (a.sentences[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const bySentence = new Map<number, Set<string>>();
  for (const e of entities) {
    for (const m of e.mentions) {
      const s = sentenceOf(m.charStart);
      let set = bySentence.get(s);
      if (!set) bySentence.set(s, (set = new Set()));
      set.add(e.id);
    }
  }
  const pairs = new Map<string, number[]>();
  for (const [sentence, set] of bySentence) {
    const list = [...set].sort();
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const k = `${list[i]}\u0000${list[j]}`;
        const at = pairs.get(k);
        if (at) at.push(sentence);
        else pairs.set(k, [sentence]);
      }
  }
  const co: KgRelation[] = [...pairs.entries()]
    .map(([k, sentences]) => {
      const [source, target] = k.split('\u0000') as [string, string];
      // The sentences that back it: where both are named (the first few).
      const quotes = sentences
        .sort((x, y) => x - y)
        .slice(0, MAX_RELATION_QUOTES)
        .map((s) => spanOf(t, a.sentences[s]!.start, a.sentences[s]!.end));
      return { source, target, type: 'co-occurs' as const, count: sentences.length, quotes };
    })
    .sort((x, y) => y.count - x.count || x.source.localeCompare(y.source) || x.target.localeCompare(y.target))
    .slice(0, MAX_RELATIONS);
  const toEpisode: KgRelation[] = entities.map((e) => ({
    source: e.id,
    target: e.role === 'host' && ids.show ? ids.show : ids.episode,
    type: e.role === 'host' ? 'host-of' : e.role === 'guest' ? 'guest-on' : 'mentioned-in',
    count: e.mentionCount,
    // Where the episode names it first.
    quotes: e.mentions.slice(0, MAX_RELATION_QUOTES),
  }));
  return [
    ...co,
    ...toEpisode,
    ...(ids.show ? [{ source: ids.episode, target: ids.show, type: 'episode-of' as const, count: 1 }] : []),
  ];
}
