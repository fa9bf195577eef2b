import type { Db } from '../store/db.ts';

/**
 * Record (or replace) an episode's artifact of one kind in the library: the file a step wrote,
 * the step's fingerprint and the model that made it. Called by steps' commits, inside the
 * engine's transaction.
 */
export function recordArtifact(
  db: Db,
  a: {
    episodeId: number;
    kind: string;
    path: string;
    fingerprint: string;
    modelId: string | null;
    now: number;
  },
): void {
  db.prepare(
    `INSERT INTO artifacts (episode_id, kind, path, fingerprint, schema_version, model_id, created_at)
     VALUES (?, ?, ?, ?, 1, ?, ?)
     ON CONFLICT (episode_id, kind) DO UPDATE SET path = excluded.path, fingerprint = excluded.fingerprint,
       model_id = excluded.model_id, created_at = excluded.created_at`,
  ).run(a.episodeId, a.kind, a.path, a.fingerprint, a.modelId, a.now);
}
