import { PERSON_TITLES } from './gazetteer.ts';

const ORG_FORMS = new Set(['inc', 'corp', 'ltd', 'llc', 'gmbh', 'plc', 'co']);

/**
 * The key names are merged on, within an episode and across the library: diacritics dropped
 * ("José" = "Jose"), case folded, possessive "'s" and punctuation dropped, titles removed
 * ("Dr. Sarah Chen" = "Sarah Chen"), a leading "the" and company forms ("Inc.", "Ltd") removed.
 */
export function normalizeName(name: string): string {
  const words = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/['’]s\b/g, '')
    .replace(/[^\p{L}\p{N}&]+/gu, ' ')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  while (words.length > 1 && (PERSON_TITLES.has(words[0]!) || words[0] === 'the')) words.shift();
  while (words.length > 1 && ORG_FORMS.has(words[words.length - 1]!)) words.pop();
  return words.join(' ');
}

/** The display form: titles and a possessive dropped, spacing tidied. */
export function displayName(name: string): string {
  const words = name
    .replace(/['’]s$/u, '')
    .replace(/\s+/g, ' ')
    .trim()
    .split(' ');
  while (words.length > 1 && PERSON_TITLES.has(words[0]!.toLowerCase().replace(/\.$/, ''))) words.shift();
  return words.join(' ');
}
