import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, databasePath, type Db } from '../../pipeline/store/index.ts';
import { Registry, type WorkflowDef } from '../../pipeline/engine/workflow.ts';
import { workflows } from '../fixtures/workflows.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const fixtureWorkflowsModule = path.join(repoRoot, 'test/fixtures/workflows.ts');
export const cliPath = path.join(repoRoot, 'pipeline/cli.ts');

export function tempDir(prefix = 'earshot-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function freshStore(defs: WorkflowDef[] = workflows): { dataDir: string; db: Db; registry: Registry } {
  const dataDir = tempDir();
  return { dataDir, db: openDatabase(databasePath(dataDir)), registry: new Registry(defs) };
}

/** Lines of runs.log for one step: every time the step's code started. */
export function runCount(dataDir: string, workflowId: string, step: string): number {
  try {
    return fs
      .readFileSync(path.join(dataDir, 'runs.log'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(`${workflowId} ${step} `)).length;
  } catch {
    return 0;
  }
}

export function ledgerCounts(db: Db): Map<string, number> {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'test_ledger'`).get();
  if (!exists) return new Map();
  const rows = db
    .prepare('SELECT workflow_id, step, count(*) AS n FROM test_ledger GROUP BY workflow_id, step')
    .all() as { workflow_id: string; step: string; n: number }[];
  return new Map(rows.map((r) => [`${r.workflow_id}/${r.step}`, r.n]));
}

/** Environment for child processes running the CLI against the fixture workflows. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, EARSHOT_WORKFLOWS_MODULE: fixtureWorkflowsModule, ...extra };
}
