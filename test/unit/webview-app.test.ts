/**
 * The shape of the webview bundle around its coordinator (webview/src/app.ts), read from the
 * sources' imports: nothing app.ts reaches imports it back, the state layer stays pure (it runs
 * in plain Node: no DOM modules, no host), and the DOM builders and input bindings emit actions
 * rather than reduce them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const SRC = path.resolve(__dirname, '..', '..', 'webview', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** Relative imports of each module under webview/src, as paths relative to it. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = path.resolve(path.dirname(file), (m[1] as string).replace(/\.js$/, '.ts'));
      if (target.startsWith(SRC)) deps.push(path.relative(SRC, target));
    }
    graph.set(path.relative(SRC, file), deps);
  }
  return graph;
}

describe('webview app structure', () => {
  const graph = importGraph();

  it('has no module reached from app.ts that imports app.ts back', () => {
    const seen = new Set<string>();
    const todo = [...(graph.get('app.ts') ?? [])];
    while (todo.length > 0) {
      const f = todo.pop() as string;
      if (seen.has(f)) continue;
      seen.add(f);
      todo.push(...(graph.get(f) ?? []));
    }
    assert.ok(seen.size > 10, 'the walk reached the modules');
    assert.deepEqual(
      [...seen].filter((f) => (graph.get(f) ?? []).includes('app.ts')),
      [],
    );
    assert.deepEqual(
      [...graph].filter(([, deps]) => deps.includes('app.ts')).map(([f]) => f),
      ['main.ts'],
      'only the entry point imports the app',
    );
  });

  it('keeps state/ free of the DOM, the renderer and the host', () => {
    for (const [file, deps] of graph) {
      if (!file.startsWith(`state${path.sep}`)) continue;
      for (const d of deps) {
        assert.ok(
          d.startsWith(`state${path.sep}`) || d.startsWith(`model${path.sep}`),
          `${file} imports ${d}`,
        );
      }
    }
  });

  it('lets ui/ and input/ emit actions, never reduce or hold the store', () => {
    for (const [file, deps] of graph) {
      if (!file.startsWith(`ui${path.sep}`) && !file.startsWith(`input${path.sep}`)) continue;
      for (const d of deps) {
        assert.notEqual(d, path.join('state', 'reduce.ts'), `${file} reduces`);
        assert.ok(!d.startsWith(`host${path.sep}`), `${file} talks to the host`);
      }
      const text = readFileSync(path.join(SRC, file), 'utf8');
      assert.doesNotMatch(text, /createStore\(/, `${file} makes a store`);
    }
  });
});
