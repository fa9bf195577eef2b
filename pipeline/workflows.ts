import type { CommitContext, Json, WorkflowDef } from './engine/workflow.ts';
import type { DownloadOutput } from './steps/download.ts';
import type { PublisherOutput } from './steps/publisher-transcript.ts';
import type { TranscribeOutput } from './steps/transcribe.ts';
import { searchIndexStep } from './search/step-def.ts';
import { commitUnderstanding } from './understand/commit.ts';
import { understandFingerprint } from './understand/versions.ts';
import { commitDigest } from './digest/commit.ts';

/**
 * The workflows this Earshot runs. The engine and every worker process import this module
 * (or the one named by EARSHOT_WORKFLOWS_MODULE, which tests and benchmarks use). Step code is
 * imported lazily, so the engine process never loads what only workers need.
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

function upsertArtifact(ctx: CommitContext, kind: string, file: string, modelId: string | null): void {
  ctx.db
    .prepare(
      `INSERT INTO artifacts (episode_id, kind, path, fingerprint, schema_version, model_id, created_at)
       VALUES (?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT (episode_id, kind) DO UPDATE SET path = excluded.path, fingerprint = excluded.fingerprint,
         model_id = excluded.model_id, created_at = excluded.created_at`,
    )
    .run((ctx.input as unknown as EpisodeInput).episodeId, kind, file, ctx.fingerprint, modelId, ctx.now);
}

function commitPublisher(ctx: CommitContext): void {
  const out = ctx.output as unknown as PublisherOutput;
  if (out.transcript) upsertArtifact(ctx, 'transcript', out.transcript.path, 'publisher');
  if (out.chapters) upsertArtifact(ctx, 'chapters', out.chapters.path, 'publisher');
}

function commitAudio(ctx: CommitContext): void {
  const input = ctx.input as unknown as EpisodeInput;
  const out = ctx.output as unknown as DownloadOutput;
  ctx.db
    .prepare(
      `INSERT INTO artifacts (episode_id, kind, path, fingerprint, schema_version, created_at)
       VALUES (?, 'audio', ?, ?, 1, ?)
       ON CONFLICT (episode_id, kind) DO UPDATE SET path = excluded.path, fingerprint = excluded.fingerprint,
         created_at = excluded.created_at`,
    )
    .run(input.episodeId, out.path, ctx.fingerprint, ctx.now);
  ctx.db
    .prepare(`UPDATE episodes SET status = 'downloaded', updated_at = ? WHERE id = ?`)
    .run(ctx.now, input.episodeId);
}

function commitTranscript(ctx: CommitContext): void {
  const out = ctx.output as unknown as TranscribeOutput;
  const input = ctx.input as unknown as EpisodeInput;
  if (out.path) {
    upsertArtifact(ctx, 'transcript', out.path, out.modelId);
    // The step removed the decoded audio once Whisper had read it.
    ctx.db.prepare(`DELETE FROM artifacts WHERE episode_id = ? AND kind = 'pcm'`).run(input.episodeId);
  }
  ctx.db
    .prepare(`UPDATE episodes SET status = 'transcribed', updated_at = ? WHERE id = ?`)
    .run(ctx.now, input.episodeId);
}

const whisperMode = (input: Json) =>
  (input as unknown as EpisodeInput).whisper === 'always' ? 'always' : 'auto';

export const episodeWorkflow: WorkflowDef = {
  kind: 'episode',
  steps: [
    {
      name: 'download',
      lane: 'io',
      version: '1',
      maxAttempts: 6,
      run: async (ctx) => (await import('./steps/download.ts')).download(ctx),
      commit: commitAudio,
    },
    {
      name: 'publisher-transcript',
      lane: 'io',
      version: '1',
      after: [],
      maxAttempts: 6,
      run: async (ctx) => (await import('./steps/publisher-transcript.ts')).publisherTranscript(ctx),
      commit: commitPublisher,
    },
    {
      // Waits for the publisher's transcript: when there is one, Whisper is not needed and the
      // audio is not decoded (unless the user asked for Whisper anyway).
      name: 'decode',
      lane: 'cpu',
      version: '2',
      after: ['download', 'publisher-transcript'],
      fingerprint: whisperMode,
      run: async (ctx) => (await import('./steps/decode.ts')).decode(ctx),
      commit: (ctx) => {
        const out = ctx.output as unknown as { path: string | null };
        if (out.path) upsertArtifact(ctx, 'pcm', out.path, null);
      },
    },
    {
      name: 'transcribe',
      lane: 'gpu',
      version: '1',
      after: ['decode', 'publisher-transcript'],
      fingerprint: (input) =>
        `${whisperMode(input)}:${(input as unknown as EpisodeInput).whisperModel ?? 'none'}`,
      run: async (ctx) => (await import('./steps/transcribe.ts')).transcribe(ctx),
      commit: commitTranscript,
    },
    {
      // Summary, grounded insights and knowledge graph from the transcript (Whisper's or the
      // publisher's): classic NLP, or the LLM tier when a language model is active.
      name: 'understand',
      lane: 'cpu',
      version: '1',
      after: ['transcribe', 'publisher-transcript'],
      fingerprint: (input) =>
        understandFingerprint(
          (input as unknown as EpisodeInput).llmModel ?? null,
          (input as unknown as EpisodeInput).embeddingModel ?? null,
        ),
      run: async (ctx) => (await import('./understand/step.ts')).understand(ctx),
      commit: commitUnderstanding,
    },
  ],
};

// Search indexing goes last: after `understand` when there is one (its insights are indexed).
episodeWorkflow.steps.push(searchIndexStep(episodeWorkflow.steps.map((s) => s.name)));

/**
 * The digest of a window of the library (pipeline/digest/): started by the schedule beside the
 * background feed refresh (pipeline/digest/schedule.ts); one step on the cpu lane writes
 * digests/<from>-<to>.json and its commit records it. The subject is the window, so a window is
 * digested once per pipeline version.
 */
export const digestWorkflow: WorkflowDef = {
  kind: 'digest',
  steps: [
    {
      name: 'build',
      lane: 'cpu',
      version: '1',
      run: async (ctx) => (await import('./digest/step.ts')).buildDigestStep(ctx),
      commit: commitDigest,
    },
  ],
};

export const workflows: WorkflowDef[] = [episodeWorkflow, digestWorkflow];
