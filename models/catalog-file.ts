import fs from 'node:fs';
import { z } from 'zod';
import { CATALOG, memoryFor, type CatalogEntry } from './catalog.ts';
import { ModelError } from './errors.ts';
import { clause } from '../pipeline/clause.ts';

const entrySchema = z.object({
  id: z.string().min(1),
  kind: z.enum(['whisper', 'llm', 'embedding']),
  file: z.string().min(1),
  url: z.url(),
  bytes: z.number().int().positive().nullable(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  sha1: z
    .string()
    .regex(/^[0-9a-f]{40}$/)
    .nullable()
    .default(null),
  licence: z.string().default('unknown'),
  source: z.string().default(''),
  label: z.string().optional(),
  quality: z.string().optional(),
});

/**
 * The catalog the model manager offers: Earshot's own, or, when `EARSHOT_MODEL_CATALOG` names a
 * JSON file (the shape of catalog-sources.json; label and quality optional), that one instead —
 * for tests (a server on 127.0.0.1) and for machines that fetch models from a local mirror.
 */
export function loadCatalog(env: NodeJS.ProcessEnv = process.env): readonly CatalogEntry[] {
  const file = env.EARSHOT_MODEL_CATALOG;
  if (!file) return CATALOG;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ModelError(
      'MODEL_CATALOG',
      `Cannot read the model catalog named by EARSHOT_MODEL_CATALOG (${file}): ${clause((err as Error).message)}. Fix the file or unset the variable.`,
    );
  }
  const parsed = z.array(entrySchema).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelError(
      'MODEL_CATALOG',
      `The model catalog ${file} (EARSHOT_MODEL_CATALOG) is not valid: ${issue.path.join('.')}: ${clause(issue.message)}.`,
    );
  }
  return parsed.data.map((e) => ({
    ...e,
    label: e.label ?? e.id,
    quality: e.quality ?? '',
    memoryBytes: memoryFor(e.bytes),
  }));
}
