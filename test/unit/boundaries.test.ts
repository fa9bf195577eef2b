import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { repoRoot } from '../helpers/env.ts';

const eslint = new ESLint({ cwd: repoRoot });

async function ruleHits(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
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
});
