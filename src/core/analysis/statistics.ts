/**
 * The few statistics the diagnoses rest on: exact quantiles of small samples, the one-sided
 * Mann-Whitney U test (is one sample's latency above another's?) and the one-sided Fisher exact
 * test (is one group's error rate above another's?).
 *
 * Hand-written: about sixty lines against a statistics dependency for three functions; the
 * samples are at most a few thousand values, so exact methods are cheap.
 */

/** Quantile by linear interpolation over a sorted copy (exact; these sets are small). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return quantileSorted(sorted, q);
}

/** Quantile of an already ascending array. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (v: readonly number[]): number => quantile(v, 0.5);

/**
 * The z score of a one-sided Mann-Whitney U test that `a` tends to exceed `b` (normal
 * approximation with tie and continuity corrections). z >= 2.5 is p < 0.006; z >= 3 is
 * p < 0.0015.
 */
export function mannWhitneyZ(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  return mannWhitneyZSorted(Float64Array.from(a).sort(), Float64Array.from(b).sort());
}

/**
 * {@link mannWhitneyZ} of two ascending samples: one merge, no allocation (the diagnoses call it
 * for every group of every stage on each report).
 */
export function mannWhitneyZSorted(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return 0;
  // Average ranks for ties; the tie term corrects the variance.
  let rankSumA = 0;
  let tieTerm = 0;
  let i = 0;
  let j = 0;
  let rank = 0; // values ranked so far
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let inA = 0;
    while (i < n1 && a[i] === v) {
      i++;
      inA++;
    }
    let inB = 0;
    while (j < n2 && b[j] === v) {
      j++;
      inB++;
    }
    const t = inA + inB;
    rankSumA += inA * (rank + (t + 1) / 2);
    rank += t;
    tieTerm += t * t * t - t;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return 0;
  return (u - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance);
}

/** ln(n!) by summing logs (n is at most a few thousand here), cached. */
const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++) {
    logFactorials.push(logFactorials[i - 1]! + Math.log(i));
  }
  return logFactorials[n]!;
}

/**
 * One-sided Fisher exact test: the probability of seeing at least `hitsA` failures in group A
 * (of `nA`) when `hitsA + hitsB` failures fall at random over `nA + nB` trials. Small p: group A
 * fails more than chance would make it.
 */
export function fisherGreaterP(hitsA: number, nA: number, hitsB: number, nB: number): number {
  const hits = hitsA + hitsB;
  const n = nA + nB;
  if (nA <= 0 || nB <= 0 || hits === 0) return 1;
  const logDenominator = logFactorial(n) - logFactorial(hits) - logFactorial(n - hits);
  let p = 0;
  for (let k = hitsA; k <= Math.min(nA, hits); k++) {
    const logP =
      logFactorial(nA) -
      logFactorial(k) -
      logFactorial(nA - k) +
      logFactorial(nB) -
      logFactorial(hits - k) -
      logFactorial(nB - hits + k) -
      logDenominator;
    p += Math.exp(logP);
  }
  return Math.min(1, p);
}
