/**
 * The input of an episode's workflow: what startEpisodes (ingest/episodes.ts) records when it
 * queues an episode, and what every step of the episode workflow reads. Its own module, so the
 * steps and workflows.ts (which assembles them) never import each other.
 */
export interface EpisodeInput {
  episodeId: number;
  key: string;
  sources: { url: string; type?: string; length?: number }[];
  transcripts: { url: string; type: string; language?: string }[];
  chaptersUrl: { url: string; type?: string } | null;
  podloveChapters: { startMs: number; title: string; href?: string; image?: string }[];
  localPath: string | null;
  sha256: string | null;
  /**
   * The host of the feed the user subscribed to by hand: the one loopback/private host this
   * episode's downloads may reach (pipeline/ingest/net-policy.ts). Null: public hosts only.
   */
  trustedHost?: string | null;
  /** The episode's length from its feed, for the download's size cap. */
  durationMs?: number | null;
  /** The Whisper model chosen when the episode was queued (part of the transcribe fingerprint); null: none installed. */
  whisperModel?: string | null;
  /**
   * The embedding model chosen when the episode was queued (part of the index and understand
   * fingerprints: it embeds the chunks, and merges entities by meaning); null: keyword search only.
   */
  embeddingModel?: string | null;
  /** 'always': transcribe even when the publisher has a transcript. Default 'auto'. */
  whisper?: 'auto' | 'always';
  /** Whisper's initial prompt: show, host and guest names (see ingest/vocabulary.ts). */
  vocabulary?: string;
  /** The feed's declared language (RSS <language>), a hint for multilingual models. */
  language?: string | null;
  /** The language model active when the episode was queued (part of the understand fingerprint); null: classic tier. */
  llmModel?: string | null;
  /** The show, its author (usually the host) and the episode title, for understanding (roles, the graph's nodes). */
  feedId?: number | null;
  showTitle?: string | null;
  host?: string | null;
  episodeTitle?: string | null;
}

/** 'always': transcribe even when the publisher has a transcript (part of decode's and transcribe's fingerprints). */
export function whisperMode(input: EpisodeInput): 'auto' | 'always' {
  return input.whisper === 'always' ? 'always' : 'auto';
}

/** Whether the publisher's transcript makes Whisper unnecessary for this episode. */
export function publisherCovers(input: EpisodeInput, outputs: Record<string, unknown>): boolean {
  const pub = outputs['publisher-transcript'] as { transcript?: { path: string } | null } | undefined;
  return input.whisper !== 'always' && !!pub?.transcript;
}

/** What a step waits for when no model of a kind is chosen (`Queue.wake(modelResource(kind))`). */
export function modelResource(kind: 'whisper' | 'llm' | 'embedding'): string {
  return `model:${kind}`;
}
