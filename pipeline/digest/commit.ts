import type { TypedCommitContext } from '../engine/workflow.ts';
import type { DigestInput } from './schedule.ts';
import { recordDigest, type DigestRecord } from './records.ts';

/** What the digest step returns: its file and what the `digests` row says of it. */
export interface DigestOutput extends DigestRecord {
  path: string;
  scheduled: boolean;
  elapsedMs: number;
}

/** The digest step's commit (in the engine's transaction): record the digest it wrote. */
export function commitDigest(ctx: TypedCommitContext<DigestInput, DigestOutput>): void {
  const out = ctx.output;
  recordDigest(ctx.db, {
    file: out.path,
    digest: out,
    scheduled: out.scheduled,
    workflowId: ctx.workflowId,
    now: ctx.now,
  });
}
