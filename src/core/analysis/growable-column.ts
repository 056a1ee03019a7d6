/**
 * Append-only typed columns for results whose length is only known at the end (critical-path
 * segments, remote calls). A JS array of a million numbers grows by reallocating boxed storage
 * in the GC heap; these double a typed array instead, and `finish` copies out the used part.
 */

/** Int32 values; `get` and `set` address positions below `length`. */
export class Int32Column {
  private data: Int32Array;
  length = 0;

  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  get(i: number): number {
    return this.data[i] as number;
  }

  set(i: number, value: number): void {
    this.data[i] = value;
  }

  /** A copy of the values pushed. */
  finish(): Int32Array {
    return this.data.slice(0, this.length);
  }

  /** The values pushed, as a view of the column's storage (no copy; valid until the next push). */
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/** Float64 values; `get` and `set` address positions below `length`. */
export class Float64Column {
  private data: Float64Array;
  length = 0;

  constructor(capacity: number) {
    this.data = new Float64Array(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  get(i: number): number {
    return this.data[i] as number;
  }

  set(i: number, value: number): void {
    this.data[i] = value;
  }

  /** A copy of the values pushed. */
  finish(): Float64Array {
    return this.data.slice(0, this.length);
  }

  /** The values pushed, as a view of the column's storage (no copy; valid until the next push). */
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
