import { CATALOG } from '../catalog.ts';

/**
 * Which Whisper model an episode can be given: English-only models (".en") transcribe English
 * and nothing else, so an episode whose feed declares another language needs a multilingual one.
 */

/** A Whisper model that knows only English: its catalog id (or file name) has ".en". */
export function isEnglishOnly(modelId: string): boolean {
  return /\.en(\b|-|$)/.test(modelId);
}

/** The feed's declared language as its primary code ("de" for "de-AT"), or null when none or malformed. */
export function primaryLanguage(language: string | null | undefined): string | null {
  const primary = language?.trim().toLowerCase().split(/[-_]/)[0];
  return primary && /^[a-z]{2,3}$/.test(primary) ? primary : null;
}

/** The feed declares a language that is not English. Undeclared: no (nothing says otherwise). */
export function declaresNonEnglish(language: string | null | undefined): boolean {
  const primary = primaryLanguage(language);
  return primary !== null && primary !== 'en';
}

/** The multilingual model of the same size and build: whisper-base.en-q5_1 → whisper-base-q5_1. */
export function multilingualCounterpart(modelId: string): string | null {
  if (!isEnglishOnly(modelId)) return null;
  return modelId.replace(/\.en(?=\b|-|$)/, '');
}

const NAMES: Record<string, string> = {
  de: 'German',
  ca: 'Catalan',
  nl: 'Dutch',
  pl: 'Polish',
  fr: 'French',
  es: 'Spanish',
  it: 'Italian',
  pt: 'Portuguese',
  sv: 'Swedish',
  da: 'Danish',
  no: 'Norwegian',
  nb: 'Norwegian',
  fi: 'Finnish',
  cs: 'Czech',
  ja: 'Japanese',
  zh: 'Chinese',
  ko: 'Korean',
  ru: 'Russian',
  uk: 'Ukrainian',
  tr: 'Turkish',
  ar: 'Arabic',
  hi: 'Hindi',
};

/** A language code in words for messages ("German (de)"); the code alone when it is not a common one. */
export function languageName(language: string | null | undefined): string {
  const primary = primaryLanguage(language);
  if (!primary) return 'an undeclared language';
  const name = NAMES[primary];
  return name ? `${name} (${primary})` : `"${primary}"`;
}

/**
 * The Whisper model for an episode in `language`: the active one when it can transcribe that
 * language; else an installed multilingual one (the active one's own counterpart first, so the
 * size the person chose is kept). When none is installed it stays the active one, and the
 * transcribe step refuses it, saying which model the episode needs (`englishOnlyProblem`).
 */
export function whisperModelFor(
  active: string | null,
  language: string | null | undefined,
  installed: readonly string[],
): string | null {
  if (!active || !isEnglishOnly(active) || !declaresNonEnglish(language)) return active;
  const counterpart = multilingualCounterpart(active);
  if (counterpart && installed.includes(counterpart)) return counterpart;
  return installed.find((id) => !isEnglishOnly(id)) ?? active;
}

/**
 * Why `modelId` cannot transcribe an episode in `language`, with the model it needs and the
 * commands that get it; null when it can.
 */
export function englishOnlyProblem(
  modelId: string,
  language: string | null | undefined,
  episodeId?: number,
): string | null {
  if (!isEnglishOnly(modelId) || !declaresNonEnglish(language)) return null;
  // The same size, multilingual, when the catalog has it (a custom ".en" file has no counterpart there).
  const counterpart = multilingualCounterpart(modelId);
  const needs = counterpart && CATALOG.some((m) => m.id === counterpart) ? counterpart : 'whisper-base';
  const again = episodeId === undefined ? 'process the episode again' : `\`earshot process ${episodeId}\``;
  return (
    `This episode's show is in ${languageName(language)}, and the Whisper model ${modelId} transcribes English only, so Earshot did not use it. ` +
    `It needs a multilingual model such as ${needs}: install it (\`earshot models install ${needs}\`, or Settings → Models), then ${again}.`
  );
}
