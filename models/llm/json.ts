import type { GbnfJsonSchema, GbnfJsonSchemaToType, Llama, LlamaGrammar } from 'node-llama-cpp';
import {
  chat,
  complete,
  LlmOutputError,
  type ChatPrompt,
  type GenerateOptions,
  type LoadedLlm,
} from './runtime.ts';

/**
 * Output constrained by a JSON-schema grammar: at every step the model may only pick tokens that
 * keep the text valid JSON of the schema's shape, so the answer always parses — unless it is cut
 * off by maxTokens, which bounded schemas (maxLength on strings, maxItems on arrays) rule out when
 * generateJson is left to allow `jsonTokenBound(schema)` tokens.
 */

// Grammars are compiled once per binding and schema.
const grammars = new WeakMap<Llama, Map<string, Promise<LlamaGrammar>>>();

export function grammarFor(llama: Llama, schema: GbnfJsonSchema): Promise<LlamaGrammar> {
  let byKey = grammars.get(llama);
  if (!byKey) grammars.set(llama, (byKey = new Map()));
  const key = JSON.stringify(schema);
  let grammar = byKey.get(key);
  if (!grammar) {
    grammar = llama.createGrammarForJsonSchema(schema as never) as Promise<LlamaGrammar>;
    byKey.set(key, grammar);
    grammar.catch(() => byKey.delete(key));
  }
  return grammar;
}

/**
 * An upper bound on the tokens a JSON value of this schema can take (a token is at least one
 * character; whitespace the grammar allows is counted generously), or null when the schema leaves
 * a string or an array unbounded.
 */
export function jsonTokenBound(schema: GbnfJsonSchema): number | null {
  const chars = charBound(schema);
  return chars === null ? null : Math.ceil(chars * 1.5) + 32;
}

function charBound(s: GbnfJsonSchema): number | null {
  const x = s as Record<string, unknown>;
  if ('const' in x) return JSON.stringify(x.const).length;
  if (Array.isArray(x.enum)) return Math.max(...x.enum.map((v) => JSON.stringify(v).length));
  if (Array.isArray(x.oneOf)) {
    const each = (x.oneOf as GbnfJsonSchema[]).map(charBound);
    return each.some((b) => b === null) ? null : Math.max(...(each as number[]));
  }
  const type = Array.isArray(x.type) ? x.type : [x.type];
  let most = 0;
  for (const t of type) {
    let b: number | null;
    switch (t) {
      case 'string':
        // Escapes (\n, \") are two characters for one.
        b = typeof x.maxLength === 'number' ? 2 * x.maxLength + 2 : null;
        break;
      case 'number':
      case 'integer':
        b = 24;
        break;
      case 'boolean':
      case 'null':
        b = 5;
        break;
      case 'array': {
        const item = x.items ? charBound(x.items as GbnfJsonSchema) : 0;
        const n = typeof x.maxItems === 'number' ? x.maxItems : null;
        b = item === null || n === null ? null : 4 + n * (item + 8);
        break;
      }
      case 'object': {
        const props = Object.entries((x.properties ?? {}) as Record<string, GbnfJsonSchema>);
        if (x.additionalProperties) return null;
        let sum = 4;
        for (const [k, v] of props) {
          const vb = charBound(v);
          if (vb === null) return null;
          sum += k.length + 10 + vb;
        }
        b = sum;
        break;
      }
      default:
        return null;
    }
    if (b === null) return null;
    most = Math.max(most, b);
  }
  return most;
}

/**
 * Checks a value against the subset of JSON Schema the grammars use (type, properties, items,
 * enum, const, oneOf, min/maxItems, min/maxLength). Returns the problems; empty when it fits.
 */
export function validateJson(schema: GbnfJsonSchema, value: unknown, at = '$'): string[] {
  const x = schema as Record<string, unknown>;
  if ('const' in x)
    return JSON.stringify(value) === JSON.stringify(x.const) ? [] : [`${at}: not the constant`];
  if (Array.isArray(x.enum))
    return x.enum.some((v) => v === value)
      ? []
      : [`${at}: ${JSON.stringify(value)} is not one of the choices`];
  if (Array.isArray(x.oneOf)) {
    const fits = (x.oneOf as GbnfJsonSchema[]).some((s) => validateJson(s, value, at).length === 0);
    return fits ? [] : [`${at}: matches none of oneOf`];
  }
  const types = Array.isArray(x.type) ? (x.type as string[]) : [x.type as string];
  const problems: string[] = [];
  for (const t of types) {
    const p = validateType(t, x, value, at);
    if (p.length === 0) return [];
    problems.push(...p);
  }
  return problems;
}

function validateType(t: string, x: Record<string, unknown>, value: unknown, at: string): string[] {
  switch (t) {
    case 'string': {
      if (typeof value !== 'string') return [`${at}: not a string`];
      const len = [...value].length;
      if (typeof x.minLength === 'number' && len < x.minLength) return [`${at}: shorter than ${x.minLength}`];
      if (typeof x.maxLength === 'number' && len > x.maxLength) return [`${at}: longer than ${x.maxLength}`];
      return [];
    }
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? [] : [`${at}: not a number`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: not an integer`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: not a boolean`];
    case 'null':
      return value === null ? [] : [`${at}: not null`];
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: not an array`];
      const out: string[] = [];
      if (typeof x.minItems === 'number' && value.length < x.minItems)
        out.push(`${at}: fewer than ${x.minItems} items`);
      if (typeof x.maxItems === 'number' && value.length > x.maxItems)
        out.push(`${at}: more than ${x.maxItems} items`);
      if (x.items)
        value.forEach((v, i) => out.push(...validateJson(x.items as GbnfJsonSchema, v, `${at}[${i}]`)));
      return out;
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [`${at}: not an object`];
      const props = (x.properties ?? {}) as Record<string, GbnfJsonSchema>;
      const out: string[] = [];
      const v = value as Record<string, unknown>;
      for (const [k, s] of Object.entries(props)) {
        if (!(k in v)) out.push(`${at}.${k}: missing`);
        else out.push(...validateJson(s, v[k], `${at}.${k}`));
      }
      if (!x.additionalProperties)
        for (const k of Object.keys(v)) if (!(k in props)) out.push(`${at}.${k}: not in the schema`);
      return out;
    }
    default:
      return [`${at}: unsupported type ${t}`];
  }
}

export interface JsonResult<T> {
  value: T;
  /** The raw text the model produced. */
  text: string;
  tokens: number;
}

/**
 * Generates a value of `schema` for the prompt: a chat prompt goes through the model's chat
 * template, a plain string is continued as raw text. maxTokens defaults to the schema's bound
 * (jsonTokenBound: the answer cannot be cut off; 1024 for an unbounded schema). A caller that
 * sets fewer (to fit a context) accepts that a long answer may be cut off: then, and only then,
 * it throws LlmOutputError. Throws LlmAborted when the signal fires.
 */
export async function generateJson<const T extends GbnfJsonSchema>(
  llm: LoadedLlm,
  schema: T,
  prompt: ChatPrompt | string,
  options: Omit<GenerateOptions, 'grammar'> = {},
): Promise<JsonResult<GbnfJsonSchemaToType<T>>> {
  const grammar = await grammarFor(llm.llama, schema);
  const bound = jsonTokenBound(schema);
  const maxTokens = options.maxTokens ?? bound ?? 1024;
  const run = typeof prompt === 'string' ? complete : chat;
  const out = await run(llm, prompt as never, { ...options, grammar, maxTokens });
  let value: unknown;
  try {
    value = JSON.parse(out.text);
  } catch (err) {
    throw new LlmOutputError(
      out.stopReason === 'maxTokens'
        ? `The language model's answer was cut off after ${out.tokens} tokens, before the JSON was complete.`
        : `The language model's answer was not valid JSON (${(err as Error).message}).`,
      out.text,
      { cause: err },
    );
  }
  const problems = validateJson(schema, value);
  if (problems.length)
    throw new LlmOutputError(
      `The language model's answer did not match the expected shape: ${problems.slice(0, 3).join('; ')}.`,
      out.text,
    );
  return { value: value as GbnfJsonSchemaToType<T>, text: out.text, tokens: out.tokens };
}
