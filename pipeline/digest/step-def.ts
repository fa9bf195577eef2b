import { defineStep } from '../engine/workflow.ts';
import { commitDigest, type DigestOutput } from './commit.ts';
import type { DigestInput } from './schedule.ts';

/** A digest of one window, written to digests/ and recorded by its commit (cpu lane). */
export const digestBuildStep = defineStep<DigestInput, DigestOutput>({
  name: 'build',
  lane: 'cpu',
  version: '1',
  run: async (ctx) => (await import('./step.ts')).buildDigestStep(ctx),
  commit: commitDigest,
});
