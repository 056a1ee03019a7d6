/**
 * Text handling of the gateway: a word-level tokenizer over a fixed synthetic vocabulary (words
 * hash to ids), the synthetic corpus's document tokens, and detokenization. Real string work,
 * but the vocabulary means nothing: the demo's models have random weights.
 */
import { seededRandom, VOCAB } from '../models/transformer.js';

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'xe', 'zu', 'ba', 'do'];

/** Id -> word: a pronounceable word per id, so output reads like text. */
function wordOf(id: number): string {
  let w = '';
  let n = id + 1;
  while (n > 0) {
    w += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  }
  return w;
}

const QUESTION_WORDS = [
  'how',
  'do',
  'i',
  'tune',
  'the',
  'batch',
  'size',
  'for',
  'reranker',
  'on',
  'gpu',
  'why',
  'is',
  'my',
  'pipeline',
  'slow',
  'when',
  'queue',
  'grows',
  'what',
  'limits',
  'throughput',
  'of',
  'embedding',
  'model',
  'cache',
  'latency',
  'p95',
  'after',
  'deploy',
  'replica',
  'timeouts',
];

/** Distinct questions; request i asks question i mod this, so long runs repeat (cache hits). */
const DISTINCT_QUESTIONS = 25;

/** A deterministic user question for request `i`. */
export function questionFor(i: number): string {
  const rand = seededRandom(1000 + (i % DISTINCT_QUESTIONS));
  const n = 8 + Math.floor(rand() * 10);
  return (
    Array.from(
      { length: n },
      () => QUESTION_WORDS[Math.floor(rand() * QUESTION_WORDS.length)],
    ).join(' ') + '?'
  );
}

/** FNV-1a, to map words to ids without a vocabulary file. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Normalizes (NFKC, lower case, punctuation out) and tokenizes; ids 0-3 are reserved. */
export function tokenize(text: string): number[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => 4 + (hash(w) % (VOCAB - 4)));
}

/** The tokens of corpus document `id` (deterministic). */
export function documentTokens(id: number, length = 100): number[] {
  const rand = seededRandom(50_000 + id);
  return Array.from({ length }, () => 4 + Math.floor(rand() * (VOCAB - 4)));
}

export function detokenize(tokens: readonly number[]): string {
  return tokens.map(wordOf).join(' ');
}
