/**
 * Append-only typed columns for results whose length is only known at the end (critical-path
 * segments, remote calls). A JS array of a million numbers grows by reallocating boxed storage
 * in the GC heap; these double a typed array instead, and `finish` copies out the used part.
 */

type Storage = Int32Array | Float64Array;

/** Values in a typed array of kind `T`; `get` and `set` address positions below `length`. */
class TypedColumn<T extends Storage> {
  private data: T;
  length = 0;

  constructor(
    private readonly allocate: (size: number) => T,
    capacity: number,
  ) {
    this.data = allocate(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = this.allocate(this.data.length * 2);
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
  finish(): T {
    return this.data.slice(0, this.length) as T;
  }

  /** The values pushed, as a view of the column's storage (no copy; valid until the next push). */
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

/** Int32 values. */
export class Int32Column extends TypedColumn<Int32Array> {
  constructor(capacity: number) {
    super((size) => new Int32Array(size), capacity);
  }
}

/** Float64 values. */
export class Float64Column extends TypedColumn<Float64Array> {
  constructor(capacity: number) {
    super((size) => new Float64Array(size), capacity);
  }
}
