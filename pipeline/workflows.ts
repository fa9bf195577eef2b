import type { CommitContext, Json, WorkflowDef } from './engine/workflow.ts';
import type { DownloadOutput } from './steps/download.ts';

/**
 * The workflows this Earshot runs. The engine and every worker process import this module
 * (or the one named by EARSHOT_WORKFLOWS_MODULE, which tests and benchmarks use). Step code is
 * imported lazily, so the engine process never loads what only workers need.
 */

export interface EpisodeInput {
  episodeId: number;
  key: string;
  sources: { url: string; type?: string; length?: number }[];
  [key: string]: Json;
}

function commitAudio(ctx: CommitContext): void {
  const input = ctx.input as EpisodeInput;
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
  ],
};

export const workflows: WorkflowDef[] = [episodeWorkflow];
