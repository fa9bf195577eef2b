import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { repoRoot } from '../helpers/env.ts';

const eslint = new ESLint({ cwd: repoRoot });

async function ruleHits(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

/** The layer-order rule's messages for one import written in a file at `filePath`. */
async function layerHits(from: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import type * as m from '${from}';\nexport type M = typeof m;\n`, {
    filePath,
  });
  return result!.messages.filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => m.message);
}

describe('architecture boundaries (ESLint)', () => {
  it('pipeline/ and models/ may not import electron', async () => {
    expect(
      await ruleHits(`import { app } from 'electron';\nexport const a = app;\n`, 'pipeline/engine/x.ts'),
    ).toEqual([expect.stringContaining('Electron-free')]);
    expect(
      await ruleHits(`import { app } from 'electron';\nexport const a = app;\n`, 'models/whisper/x.ts'),
    ).toHaveLength(1);
    expect(
      await ruleHits(`import { app } from 'electron';\nexport const a = app;\n`, 'electron/main/x.ts'),
    ).toEqual([]);
  });

  it('renderer/ may not import Node built-ins, with or without the node: prefix', async () => {
    expect(await ruleHits(`import fs from 'fs';\nexport const a = fs;\n`, 'renderer/src/x.ts')).toHaveLength(
      1,
    );
    expect(
      await ruleHits(`import fs from 'node:fs';\nexport const a = fs;\n`, 'renderer/src/x.ts'),
    ).toHaveLength(1);
    expect(
      await ruleHits(`import cp from 'child_process';\nexport const a = cp;\n`, 'renderer/src/x.ts'),
    ).toHaveLength(1);
    expect(
      await ruleHits(`import { ref } from 'vue';\nexport const a = ref(1);\n`, 'renderer/src/x.ts'),
    ).toEqual([]);
    expect(await ruleHits(`import fs from 'node:fs';\nexport const a = fs;\n`, 'pipeline/x.ts')).toEqual([]);
  });

  it('the layer order: store/base ← engine ← ingest/models/steps ← api ← commands/electron/renderer', async () => {
    // Downward: allowed.
    expect(await layerHits('../store/db.ts', 'pipeline/engine/x.ts')).toEqual([]);
    expect(await layerHits('../engine/queue.ts', 'pipeline/steps/x.ts')).toEqual([]);
    expect(await layerHits('../pipeline/engine/clock.ts', 'models/x.ts')).toEqual([]);
    expect(await layerHits('../../models/catalog.ts', 'pipeline/api/x.ts')).toEqual([]);
    expect(await layerHits('../api/app.ts', 'pipeline/commands/x.ts')).toEqual([]);
    // The contract's pure types are spoken by every layer.
    expect(await layerHits('../api/contract.ts', 'pipeline/engine/x.ts')).toEqual([]);
    expect(await layerHits('../pipeline/api/contract.ts', 'models/x.ts')).toEqual([]);
    // Upward: refused, with the reason.
    expect(await layerHits('../engine/queue.ts', 'pipeline/store/x.ts')).toEqual([
      expect.stringContaining('layer order'),
    ]);
    expect(await layerHits('../api/app.ts', 'pipeline/ingest/x.ts')).toHaveLength(1);
    expect(await layerHits('../api/dispatch.ts', 'pipeline/engine/x.ts')).toHaveLength(1);
    expect(await layerHits('../commands/io.ts', 'pipeline/api/x.ts')).toHaveLength(1);
    expect(await layerHits('../../electron/main/processing.ts', 'pipeline/api/x.ts')).toHaveLength(1);
    // models/ and pipeline/ never import each other both ways; nothing imports workflows.ts.
    expect(await layerHits('../pipeline/ingest/http.ts', 'models/x.ts')).toEqual([
      expect.stringContaining("pipeline's steps use models"),
    ]);
    expect(await layerHits('../workflows.ts', 'pipeline/steps/x.ts')).toEqual([
      expect.stringContaining('nothing imports it'),
    ]);
  });
});
