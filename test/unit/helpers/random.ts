/**
 * The seeded pseudo-random generator of the tests, benchmarks and the webview harness
 * (mulberry32): the same seed draws the same sequence on every machine, so a random workload or
 * a failing property case can be replayed. Not for anything that must be unpredictable.
 */

/** Uniform numbers in [0, 1), from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
