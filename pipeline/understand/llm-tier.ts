import { PermanentStepError } from '../engine/workflow.ts';
import { resolveInstalledModel } from '../../models/manager.ts';
import { llmUnderstand } from '../../models/llm/understand.ts';
import { llmGpu } from '../../models/llm/runtime.ts';
import type { LlmDrafts, LlmRequest } from './llm-seam.ts';

/**
 * The LLM tier behind the seam: models/llm's map-reduce understanding on the understand step's
 * lane (the gpu lane: on the worker's GPU, the layers that fit, or on the CPU where the machine
 * has none), its answers turned into drafts that the caller grounds.
 * The transcript text handed over is the same full text quotes are offsets into, so each
 * insight's `piece` start is where its quotes are looked for first.
 */
export async function understandWithLlm(request: LlmRequest): Promise<LlmDrafts> {
  let file: string;
  try {
    file = resolveInstalledModel(request.dataDir, request.modelId);
  } catch (err) {
    // Missing or changed on disk: retrying will not bring it back; the message says what to do.
    throw new PermanentStepError((err as Error).message);
  }
  const r = await llmUnderstand(request.text, {
    model: { id: request.modelId, path: file },
    signal: request.signal,
    gpu: llmGpu(request.device),
    episode: {
      ...(request.meta.showTitle ? { show: request.meta.showTitle } : {}),
      ...(request.meta.episodeTitle ? { title: request.meta.episodeTitle } : {}),
    },
    onProgress: (p) => request.progress(p.fraction),
  });
  return {
    promptVersion: r.promptVersion,
    summary: { abstract: r.summary.abstract, keyPoints: r.summary.keyPoints.map((text) => ({ text })) },
    insights: r.insights.map((i) => ({
      type: i.type,
      text: i.text,
      quotes: i.quotes.map((q) => ({ text: q, near: i.piece.start })),
    })),
    // Works (books, films) and products are topics in the library's four kinds.
    entities: r.entities.map((e) => ({
      name: e.name,
      type: e.type === 'work' || e.type === 'product' ? 'topic' : e.type,
      role: e.role,
      aliases: e.aliases,
    })),
  };
}
