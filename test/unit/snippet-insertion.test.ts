/**
 * The split of a `Propagate Context` result into plain edits plus one snippet
 * (src/core/scaffold/snippet-insertion.ts), for every pattern of every language.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyEdits,
  insertPropagation,
  propagationSnippets,
  type ScaffoldLanguage,
} from '../../src/core/scaffold/index.js';
import { expandPlaceholders } from '../../src/core/scaffold/propagation.js';
import { escapeSnippetText, snippetInsertion } from '../../src/core/scaffold/snippet-insertion.js';

describe('propagation: edits plus one snippet', () => {
  const unescape = (t: string) => t.replace(/\\([$}\\])/g, '$1');
  const FILES: Record<ScaffoldLanguage, string> = {
    python: 'x = 1\n\ndef send():\n    pass\n',
    typescript: 'const x = 1;\nexport function send(): void {\n  console.log(x);\n}\n',
    javascript: 'const x = 1;\nfunction send() {\n  console.log(x);\n}\n',
    go: 'package main\n\nfunc send() {\n}\n',
    java: 'package demo;\n\nclass A {\n    void send() {\n    }\n}\n',
  };
  let merged = 0;
  for (const language of Object.keys(FILES) as ScaffoldLanguage[]) {
    test(`${language}: every pattern, at the top line and inside a function`, async () => {
      const text = FILES[language];
      const inside = text.lastIndexOf('\n', text.length - 3) - 1;
      for (const s of propagationSnippets(language)) {
        for (const cursor of [0, Math.max(0, inside)]) {
          const r = await insertPropagation(text, language, undefined, cursor, s.pattern);
          assert.equal(r.status, 'edited', `${s.pattern}: ${JSON.stringify(r.messages)}`);
          assert.ok(r.snippet);
          const lineStart = text.lastIndexOf('\n', cursor - 1) + 1;
          const split = snippetInsertion(r.edits, lineStart, r.snippet.offset, r.snippet.text);
          assert.ok(split, `${s.pattern}: the snippet insertion was not located`);
          assert.ok(split.snippet.text.endsWith(r.snippet.text));
          const prefix = unescape(
            split.snippet.text.slice(0, split.snippet.text.length - r.snippet.text.length),
          );
          if (prefix !== '') merged++;
          const plain = expandPlaceholders(r.snippet.text);
          const got = applyEdits(text, [
            ...split.edits,
            { start: split.snippet.offset, end: split.snippet.offset, newText: prefix + plain },
          ]);
          assert.equal(got, applyEdits(text, r.edits), s.pattern);
        }
      }
    });
  }
  test('an import merged into the insertion stays in front of the snippet', () => {
    assert.ok(merged > 0, 'no case merged an import with the snippet');
    assert.equal(escapeSnippetText('a${b}\\'), 'a\\${b\\}\\\\');
  });
});
