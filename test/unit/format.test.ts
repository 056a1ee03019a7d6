/** `src/shared/format.ts`: how counts read, and that every count text goes through it. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatCount, nounFor } from '../../src/shared/format.js';

describe('formatCount', () => {
  it('agrees the noun with the count', () => {
    assert.equal(formatCount(1, 'trace'), '1 trace');
    assert.equal(formatCount(0, 'trace'), '0 traces');
    assert.equal(formatCount(2, 'span'), '2 spans');
    assert.equal(formatCount(1, 'match', 'matches'), '1 match');
    assert.equal(formatCount(3, 'match', 'matches'), '3 matches');
  });

  it('gives the noun alone for a count spelled apart', () => {
    assert.equal(nounFor(1, 'trace'), 'trace');
    assert.equal(nounFor(3, 'trace'), 'traces');
    assert.equal(nounFor(0, 'process', 'processes'), 'processes');
  });

  it('groups thousands', () => {
    assert.equal(formatCount(120_000, 'span'), '120,000 spans');
  });
});

/** Every `.ts` file under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('count texts', () => {
  it('spell no count with a fixed plural or a hand-made one ("1 traces")', () => {
    const root = join(__dirname, '..', '..');
    const handMade = [
      // `${n} traces`, the noun fixed whatever n is (a count, not a call: `${pct(e)} errors`)
      /\$\{[\w.]+\} (traces|spans|errors|findings|stages|matches|workers|processes)\b/,
      // n === 1 ? '' : 's', which formatCount says once
      /=== 1 \? '[a-z ]*' : '[a-z ]*'/,
    ];
    const offenders: string[] = [];
    for (const dir of ['src', join('webview', 'src')]) {
      for (const file of sources(join(root, dir))) {
        const lines = readFileSync(file, 'utf8').split('\n');
        lines.forEach((line, i) => {
          if (handMade.some((re) => re.test(line)))
            offenders.push(`${file}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    assert.deepEqual(offenders, [], 'use formatCount (src/shared/format.ts)');
  });
});
