import type { WorkflowDef } from './engine/workflow.ts';

/**
 * The workflows this Earshot runs. The engine and every worker process import this module
 * (or the one named by EARSHOT_WORKFLOWS_MODULE, which tests and benchmarks use).
 * The episode pipeline (download, decode, transcribe, ...) registers here as it lands.
 */
export const workflows: WorkflowDef[] = [];
