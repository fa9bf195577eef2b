import personTitles from './gazetteers/person-titles.json' with { type: 'json' };
import orgSuffixes from './gazetteers/org-suffixes.json' with { type: 'json' };
import orgPrefixes from './gazetteers/org-prefixes.json' with { type: 'json' };
import organizations from './gazetteers/organizations.json' with { type: 'json' };
import places from './gazetteers/places.json' with { type: 'json' };
import notNames from './gazetteers/not-names.json' with { type: 'json' };
import genericNouns from './gazetteers/generic-nouns.json' with { type: 'json' };
import weakModifiers from './gazetteers/weak-modifiers.json' with { type: 'json' };

/**
 * The word lists (data files in ./gazetteers, lower case) the classic tier uses beside
 * compromise's lexicon and the context cues to type the names it finds: each file says what it
 * holds in its "about" field.
 */
const set = (file: { names: string[] }) => new Set(file.names);

/** Words before a name that make it a person ("Dr.", "Professor"). */
export const PERSON_TITLES = set(personTitles);
/** Last words that make a name an organization ("Northwind Robotics", "Stanford University"). */
export const ORG_SUFFIXES = set(orgSuffixes);
/** First words that make a name an organization ("University of Oslo", "Bank of England"). */
export const ORG_PREFIXES = set(orgPrefixes);
/** Well-known organizations, companies and platforms often named with no suffix. */
export const KNOWN_ORGS = set(organizations);
/** Continents, countries, states, regions, large cities and the planets. */
export const PLACES = set(places);
/** Capitalized words that are not names (sentence starts, interjections, days, months). */
export const NOT_NAMES = set(notNames);
/** Common nouns that are never a topic on their own. */
export const GENERIC_NOUNS = set(genericNouns);
/** Adjectives too vague to start a key phrase ("new listeners"). */
export const WEAK_MODIFIERS = set(weakModifiers);
