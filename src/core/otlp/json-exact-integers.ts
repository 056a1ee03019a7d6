/**
 * JSON parsing that keeps long integers exact. OTLP/JSON allows a 64-bit integer (times,
 * `intValue`) as a JSON number, and `JSON.parse` makes every number a double: past 2^53 the low
 * digits are lost (1764000000000000001 comes back as 1764000000000000000). Node 20 has no
 * access to a number's source text from `JSON.parse`.
 *
 * So before parsing, each integer literal too long to be exact as a double (more than 15
 * digits) is rewritten into a string that starts with a marker made for this document;
 * `markedInteger` gives its digits back. A reader takes them exactly where an integer is wanted
 * and refuses them where a string is wanted: the marker is random, so no string the client sent
 * starts with it.
 *
 * Invariants: only numbers in value positions (after `:`, or an array element) are rewritten,
 * and a string is valid exactly there, so a valid document stays valid with the same shape and
 * an invalid one stays invalid (its error is reported from the original text). A literal that
 * JSON forbids (a leading zero) is left for `JSON.parse` to refuse.
 *
 * Cost: one native regex test, which most documents pass untouched (times are usually sent as
 * strings); otherwise one pass over the text that jumps from quote to quote through strings.
 */
import { randomBytes } from 'node:crypto';

export interface ParsedJson {
  value: unknown;
  /** The marker of rewritten integers; undefined when none was rewritten. */
  marker: string | undefined;
}

/** 10^15 < 2^53: every integer of up to 15 digits is exact as a double. */
const EXACT_DIGITS = 15;
/** A value position followed by an integer of more than 15 digits: cheap to rule out. */
const MAYBE_LONG_INTEGER = /[:,[]\s*-?[1-9][0-9]{15}/;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
/** Stands for "a value ended here" in the scanner's `prev`. */
const VALUE = -1;

/**
 * Parses JSON text as `JSON.parse` does, except that integers of more than 15 digits in value
 * positions come back as marked strings. Throws `SyntaxError` for invalid JSON.
 */
export function parseJsonWithExactIntegers(text: string): ParsedJson {
  if (!MAYBE_LONG_INTEGER.test(text)) return { value: JSON.parse(text), marker: undefined };
  const nonce = randomBytes(6).toString('hex');
  const rewritten = markLongIntegers(text, `\\u0000${nonce}:`);
  if (rewritten === text) return { value: JSON.parse(text), marker: undefined };
  let value: unknown;
  try {
    value = JSON.parse(rewritten);
  } catch {
    // Invalid either way; the original text gives the positions the client can find.
    JSON.parse(text);
    throw new SyntaxError('invalid JSON');
  }
  return { value, marker: `\u0000${nonce}:` };
}

/** The digits of an integer that was rewritten with `marker`, or undefined for any other string. */
export function markedInteger(s: string, marker: string | undefined): string | undefined {
  if (marker === undefined || s.charCodeAt(0) !== 0 || !s.startsWith(marker)) return undefined;
  return s.slice(marker.length);
}

/** Rewrites long integer literals in value positions as `"<escapedMarker><digits>"`. */
function markLongIntegers(text: string, escapedMarker: string): string {
  const parts: string[] = [];
  let copied = 0;
  // One entry per open container, true for an array: a comma starts a value only in an array.
  const inArray: boolean[] = [];
  // The last significant character outside strings (VALUE after a string or a number).
  let prev = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      prev = VALUE;
      continue;
    }
    if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const start = i;
      i = numberEnd(text, i);
      const valuePosition =
        prev === COLON ||
        ((prev === OPEN_ARRAY || prev === COMMA) && inArray[inArray.length - 1] === true);
      if (valuePosition && isLongPlainInteger(text, start, i)) {
        parts.push(text.slice(copied, start), '"', escapedMarker, text.slice(start, i), '"');
        copied = i;
      }
      prev = VALUE;
      continue;
    }
    if (c === OPEN_ARRAY) inArray.push(true);
    else if (c === OPEN_OBJECT) inArray.push(false);
    else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) inArray.pop();
    // JSON whitespace (space, tab, CR, LF) is all at or below 0x20.
    if (c > 0x20) prev = c === CLOSE_ARRAY || c === CLOSE_OBJECT ? VALUE : c;
    i++;
  }
  if (parts.length === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}

/** The index after the string that opens at `open`. Linear: each backslash is looked at once. */
function stringEnd(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return text.length;
    let k = q - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

function numberEnd(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const numeric =
      (c >= ZERO && c <= NINE) ||
      c === MINUS ||
      c === PLUS ||
      c === DOT ||
      c === LOWER_E ||
      c === UPPER_E;
    if (!numeric) break;
    i++;
  }
  return i;
}

/** `-?[1-9][0-9]*` of more than EXACT_DIGITS digits: no fraction, no exponent. */
function isLongPlainInteger(text: string, start: number, end: number): boolean {
  const first = text.charCodeAt(start) === MINUS ? start + 1 : start;
  if (end - first <= EXACT_DIGITS || text.charCodeAt(first) === ZERO) return false;
  for (let i = first; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) return false;
  }
  return true;
}
