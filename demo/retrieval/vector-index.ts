/**
 * A small in-memory vector index over a synthetic corpus: documents are seeded random unit
 * vectors. Two search modes: an IVF index (documents grouped under centroids; a query scans the
 * few closest lists, the normal case) and an exhaustive scan of every document for each of
 * several expanded queries (multi-query retrieval without an index: the slow consumer of the
 * queue-backlog scenario).
 */
import { seededRandom } from '../models/transformer.js';

export interface SearchResult {
  readonly ids: number[];
  readonly scores: number[];
  /** Documents whose distance was computed. */
  readonly scanned: number;
}

export class VectorIndex {
  private readonly vectors: Float32Array;
  private readonly centroids: Float32Array;
  private readonly lists: number[][];

  constructor(
    readonly dim: number,
    readonly size: number,
    seed: number,
    readonly nlist = 32,
    readonly nprobe = 2,
  ) {
    const rand = seededRandom(seed);
    this.vectors = new Float32Array(size * dim);
    this.centroids = new Float32Array(nlist * dim);
    for (let c = 0; c < nlist; c++) this.randomUnit(rand, this.centroids, c);
    this.lists = Array.from({ length: nlist }, () => []);
    // Each document lies near a centroid, so the IVF lists are meaningful.
    for (let i = 0; i < size; i++) {
      const c = Math.floor(rand() * nlist);
      this.randomUnit(rand, this.vectors, i);
      for (let d = 0; d < dim; d++) {
        this.vectors[i * dim + d] =
          0.7 * this.centroids[c * dim + d]! + 0.3 * this.vectors[i * dim + d]!;
      }
      this.lists[c]!.push(i);
    }
  }

  private randomUnit(rand: () => number, into: Float32Array, row: number): void {
    let norm = 0;
    for (let d = 0; d < this.dim; d++) {
      const v = rand() * 2 - 1;
      into[row * this.dim + d] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm) || 1;
    for (let d = 0; d < this.dim; d++) into[row * this.dim + d]! /= norm;
  }

  private dot(a: Float32Array, row: number, q: Float32Array): number {
    let s = 0;
    const base = row * this.dim;
    for (let d = 0; d < this.dim; d++) s += a[base + d]! * q[d]!;
    return s;
  }

  /** The query projected (or padded) to the index's dimension. */
  private project(query: readonly number[]): Float32Array {
    const q = new Float32Array(this.dim);
    for (let i = 0; i < query.length; i++) q[i % this.dim]! += query[i]!;
    return q;
  }

  search(
    query: readonly number[],
    topK: number,
    mode: 'ivf' | 'exhaustive',
    expansions = 1,
  ): SearchResult {
    // Best score per document over the (expanded) queries; -Infinity = not scanned.
    const best = new Float32Array(this.size).fill(-Infinity);
    const touched: number[] = [];
    let scanned = 0;
    const base = this.project(query);
    const queries = mode === 'ivf' ? 1 : expansions;
    const rand = seededRandom(Math.floor(Math.abs(base[0]! * 1e6)));
    for (let e = 0; e < queries; e++) {
      // Expanded queries: the query perturbed, as paraphrases of it would be.
      const q = e === 0 ? base : base.map((v) => v + (rand() - 0.5) * 0.1);
      const visit = (i: number) => {
        const s = this.dot(this.vectors, i, q);
        scanned++;
        if (best[i] === -Infinity) touched.push(i);
        if (s > best[i]!) best[i] = s;
      };
      if (mode === 'ivf') {
        const lists = Array.from(
          { length: this.nlist },
          (_, c) => [c, this.dot(this.centroids, c, q)] as const,
        )
          .sort((a, b) => b[1] - a[1])
          .slice(0, this.nprobe);
        for (const [c] of lists) for (const i of this.lists[c]!) visit(i);
      } else {
        for (let i = 0; i < this.size; i++) visit(i);
      }
    }
    const top = touched.sort((a, b) => best[b]! - best[a]!).slice(0, topK);
    return { ids: top, scores: top.map((i) => best[i]!), scanned };
  }
}
