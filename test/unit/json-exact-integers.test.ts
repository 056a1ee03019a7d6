/**
 * `parseJsonWithExactIntegers` (src/core/otlp/json-exact-integers.ts): long integer literals
 * come back exact and marked, and nothing else about the document changes: strings, keys,
 * short numbers, fractions and exponents are as `JSON.parse` gives them, and invalid JSON stays
 * invalid with the original error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  markedInteger,
  parseJsonWithExactIntegers,
} from '../../src/core/otlp/json-exact-integers.js';

/** The document with every marked integer replaced by `{int: digits}`, for comparisons. */
function unmark(v: unknown, marker: string | undefined): unknown {
  if (typeof v === 'string') {
    const digits = markedInteger(v, marker);
    return digits === undefined ? v : { int: digits };
  }
  if (Array.isArray(v)) return v.map((x) => unmark(x, marker));
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unmark(x, marker)]));
  }
  return v;
}

function parse(text: string): unknown {
  const { value, marker } = parseJsonWithExactIntegers(text);
  return unmark(value, marker);
}

describe('parseJsonWithExactIntegers', () => {
  it('keeps integers of more than 15 digits exact, in objects and arrays', () => {
    assert.deepEqual(
      parse('{"t":1764000000000000001,"a":[9223372036854775807, -9007199254740993]}'),
      {
        t: { int: '1764000000000000001' },
        a: [{ int: '9223372036854775807' }, { int: '-9007199254740993' }],
      },
    );
    assert.deepEqual(parse('[[1234567890123456789],{"x":[1,18446744073709551615]}]'), [
      [{ int: '1234567890123456789' }],
      { x: [1, { int: '18446744073709551615' }] },
    ]);
  });

  it('leaves everything else as JSON.parse has it', () => {
    const cases = [
      '{"short":123456789012345,"neg":-5,"zero":0}',
      '{"frac":12345678901234567.5,"exp":1.5e300,"expInt":1764e15}',
      '{"s":"1234567890123456789","key:1234567890123456789":true}',
      // Digits inside strings, after escaped quotes and backslashes.
      '{"a":"x\\":1234567890123456789,","b":"\\\\","c":[",12345678901234567890"]}',
      '{"n":null,"t":true,"f":false,"o":{},"e":[]}',
      ' \n [ \t 1 , 2 ] ',
    ];
    for (const text of cases) {
      const { value, marker } = parseJsonWithExactIntegers(text);
      assert.deepEqual(value, JSON.parse(text), text);
      assert.equal(marker, undefined, text);
    }
  });

  it('does not rewrite what is not a value, so invalid JSON stays invalid', () => {
    for (const text of [
      '{12345678901234567890: 1}',
      '{"a":1, 12345678901234567890: 2}',
      '{"a": 01234567890123456789}',
      '{"a": 12345678901234567890 12}',
      '{"a": -}',
      '[1234567890123456789',
    ]) {
      let expected: Error | undefined;
      try {
        JSON.parse(text);
      } catch (e) {
        expected = e as Error;
      }
      assert.ok(expected, `${text} is invalid`);
      assert.throws(
        () => parseJsonWithExactIntegers(text),
        (e: unknown) => e instanceof SyntaxError && e.message === expected.message,
        text,
      );
    }
  });

  it('marks with a marker that no string of the document carries', () => {
    const text = '{"a":12345678901234567890,"b":"\\u0000abc:12345678901234567890"}';
    const { value, marker } = parseJsonWithExactIntegers(text);
    const doc = value as { a: string; b: string };
    assert.equal(markedInteger(doc.a, marker), '12345678901234567890');
    assert.equal(markedInteger(doc.b, marker), undefined, 'a string the client sent');
    assert.equal(markedInteger(doc.a, undefined), undefined);
    // Another document gets another marker.
    assert.notEqual(parseJsonWithExactIntegers(text).marker, marker);
  });

  it('is linear on hostile input', () => {
    const started = performance.now();
    const many = `[${Array.from({ length: 200_000 }, () => '12345678901234567890').join(',')}]`;
    const { value, marker } = parseJsonWithExactIntegers(many);
    assert.equal(markedInteger((value as string[])[199_999]!, marker), '12345678901234567890');
    const backslashes = `{"a":"${'\\\\'.repeat(500_000)}","b":1234567890123456789}`;
    assert.ok(parseJsonWithExactIntegers(backslashes).marker !== undefined);
    assert.ok(performance.now() - started < 3000, 'took too long');
  });
});
