import { convert as htmlToText } from 'html-to-text';

/**
 * Whisper's initial prompt for an episode: the words it should expect and spell the way the
 * show does — the show's title, its host, the episode title and the names in the show notes.
 * Whisper reads at most half its text context (224 tokens) of prompt; this stays well under it.
 */
export interface VocabularySource {
  showTitle?: string | null;
  author?: string | null;
  episodeTitle?: string | null;
  /** Show notes, HTML or text. */
  description?: string | null;
}

/** Longest prompt, in characters (about 120 tokens of English). */
export const MAX_PROMPT_CHARS = 480;
const MAX_NAMES = 16;

// Two to four capitalised words in a row ("Lex Fridman", "Johns Hopkins University"), allowing
// initials, apostrophes and hyphens; sentence-initial words alone never qualify.
const NAME =
  /\b(?:[A-Z][\p{L}'’-]+|[A-Z]\.)(?:\s+(?:[A-Z][\p{L}'’-]+|[A-Z]\.|de|van|von|da|di|del|la|le|bin|al)){1,3}\b/gu;
const STOP_FIRST = new Set([
  'The',
  'This',
  'In',
  'On',
  'We',
  'Our',
  'And',
  'But',
  'For',
  'With',
  'Today',
  'Episode',
  'Join',
  'Listen',
  'Follow',
  'Subscribe',
  'Support',
  'Check',
  'Get',
  'Visit',
  'Sponsored',
  'Thanks',
  'Then',
  'Also',
  'After',
  'Before',
  'When',
  'Plus',
  'Later',
  'Next',
  'Host',
  'Guest',
  'Guests',
  'Hosts',
  'Co-host',
  'Produced',
  'Edited',
]);

function plain(text: string): string {
  return htmlToText(text, { wordwrap: false, selectors: [{ selector: 'a', options: { ignoreHref: true } }] });
}

/** Proper names in free text, most frequent first, then in order of appearance. */
export function namesIn(text: string): string[] {
  const counts = new Map<string, { n: number; first: number }>();
  let i = 0;
  for (const m of text.matchAll(NAME)) {
    let name = m[0].trim();
    const words = name.split(/\s+/);
    while (words.length && STOP_FIRST.has(words[0]!)) words.shift();
    if (words.length < 2) continue;
    name = words.join(' ');
    const c = counts.get(name);
    if (c) c.n++;
    else counts.set(name, { n: 1, first: i++ });
  }
  return [...counts.entries()].sort((a, b) => b[1].n - a[1].n || a[1].first - b[1].first).map(([k]) => k);
}

export function buildVocabulary(src: VocabularySource): string {
  const parts: string[] = [];
  const show = src.showTitle?.trim();
  const author = src.author?.trim();
  const title = src.episodeTitle?.trim();
  if (show) parts.push(author && author !== show ? `${show}, with ${author}.` : `${show}.`);
  else if (author) parts.push(`With ${author}.`);
  if (title) parts.push(`${title.replace(/[.\s]+$/, '')}.`);
  const seen = new Set(parts.join(' ').toLowerCase().split(/\W+/));
  const names = namesIn(plain(src.description ?? ''))
    .filter(
      (n) =>
        !n
          .toLowerCase()
          .split(/\s+/)
          .every((w) => seen.has(w)),
    )
    .slice(0, MAX_NAMES);
  const head = parts.join(' ');
  const kept: string[] = [];
  for (const name of names) {
    if (`${head} ${[...kept, name].join(', ')}.`.trim().length > MAX_PROMPT_CHARS) break;
    kept.push(name);
  }
  return (kept.length ? `${head} ${kept.join(', ')}.` : head).trim().slice(0, MAX_PROMPT_CHARS);
}
