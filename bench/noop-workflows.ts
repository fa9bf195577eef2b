/**
 * The benchmark's registry module: one workflow with a single no-op step on the cpu lane, so a
 * run measures the queue and the engine's plumbing and nothing else. Both the benchmark and the
 * engine's worker processes import it.
 */
import type { WorkflowDef } from '../pipeline/engine/workflow.ts';

export const NOOP_KIND = 'bench-noop';
export const NOOP_STEP = 'noop';

export const workflows: WorkflowDef[] = [
  {
    kind: NOOP_KIND,
    steps: [
      {
        name: NOOP_STEP,
        lane: 'cpu',
        version: '1',
        run: async () => null,
      },
    ],
  },
];
