import type { TypedStepContext } from '../engine/workflow.ts';
import { databasePath, openDatabase } from '../store/index.ts';
import { writeJsonArtifact } from '../base/artifacts.ts';
import { buildDigest } from './build.ts';
import type { DigestInput } from './schedule.ts';
import { digestFile, digestRecord } from './records.ts';
import type { DigestOutput } from './commit.ts';

/**
 * The digest workflow's one step (cpu lane): build the digest from the library (read only:
 * workers never write it) and write digests/<from>-<to>.json whole; the commit records it.
 */
export async function buildDigestStep(ctx: TypedStepContext<DigestInput>): Promise<DigestOutput> {
  const started = Date.now();
  const input = ctx.input;
  const db = openDatabase(databasePath(ctx.dataDir), { readonly: true });
  let digest;
  try {
    digest = buildDigest(db, { from: input.from, to: input.to, budgetMs: input.budgetMs, now: Date.now() });
  } finally {
    db.close();
  }
  const file = digestFile(ctx.dataDir, input.from, input.to);
  writeJsonArtifact(file, digest);
  const out: DigestOutput = {
    ...digestRecord(digest),
    path: file,
    scheduled: input.scheduled,
    elapsedMs: Date.now() - started,
  };
  return out;
}
