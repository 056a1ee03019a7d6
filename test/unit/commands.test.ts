/**
 * The extension's command ids (src/extension/shared/commands.ts) are exactly the commands
 * package.json contributes: a command renamed on one side only would register nothing, or
 * leave a palette entry that fails. The Get Started walkthrough and the views' welcome content
 * link only to contributed commands (with arguments the commands accept), complete on them, and
 * show media that exists.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { SCENARIO_NAMES } from '../../demo/scenarios.js';
import { COMMANDS } from '../../src/extension/shared/commands.js';
import { WATERFALL_VIEW_TYPE } from '../../src/extension/waterfall/view-type.js';

const ROOT = path.join(__dirname, '..', '..');

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string | Record<string, string>; svg?: string };
  completionEvents?: string[];
}

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  publisher: string;
  contributes: {
    commands: Array<{ command: string }>;
    walkthroughs: Array<{ id: string; title: string; steps: Step[] }>;
    viewsWelcome: Array<{ view: string; contents: string }>;
    views: Record<string, Array<{ id: string }>>;
  };
};
const contributed = new Set(pkg.contributes.commands.map((c) => c.command));

/** The `command:` links of a description or welcome text: id and decoded JSON arguments. */
function commandLinks(text: string): Array<{ id: string; args: unknown[] }> {
  return [...text.matchAll(/\]\(command:([\w.]+)(?:\?([^)]*))?\)/g)].map((m) => ({
    id: m[1] as string,
    args: m[2] === undefined ? [] : (JSON.parse(decodeURIComponent(m[2])) as unknown[]),
  }));
}

/** Checks one link: a contributed command, or the walkthrough opener naming ours. */
function checkLink(link: { id: string; args: unknown[] }, where: string): void {
  if (link.id === 'workbench.action.openWalkthrough') {
    const ids = pkg.contributes.walkthroughs.map((w) => `${pkg.publisher}.${pkg.name}#${w.id}`);
    assert.ok(ids.includes(link.args[0] as string), `${where}: opens ${String(link.args[0])}`);
    return;
  }
  assert.ok(contributed.has(link.id), `${where}: links ${link.id}, which is not contributed`);
  // Run Demo Pipeline asks for a scenario unless the link names one it knows.
  if (link.id === COMMANDS.runDemo && link.args.length > 0) {
    assert.ok(
      (SCENARIO_NAMES as readonly string[]).includes(link.args[0] as string),
      `${where}: scenario`,
    );
  }
}

test('COMMANDS matches contributes.commands', () => {
  assert.deepEqual(Object.values(COMMANDS).sort(), [...contributed].sort());
});

describe('the Get Started walkthrough', () => {
  const walkthrough = pkg.contributes.walkthroughs.find((w) => w.id === 'getStarted');

  test('runs the incident, reads the culprit, opens the slowest request, instruments a file', () => {
    assert.ok(walkthrough);
    const firstLinks = walkthrough.steps.map((s) => commandLinks(s.description)[0]);
    assert.deepEqual(firstLinks, [
      { id: COMMANDS.runDemo, args: ['slow-reranker'] },
      { id: COMMANDS.showInsights, args: [] },
      { id: COMMANDS.openSlowestTrace, args: [] },
      { id: COMMANDS.addTracingSetup, args: [] },
    ]);
  });

  test('each step is one click: a contributed command that also completes it', () => {
    for (const step of walkthrough?.steps ?? []) {
      const links = commandLinks(step.description);
      assert.equal(links.length, 1, `${step.id}: one command link`);
      for (const link of links) checkLink(link, step.id);
      const events = step.completionEvents ?? [];
      assert.ok(events.length > 0, `${step.id}: has completion events`);
      for (const e of events) {
        const m = /^onCommand:(.+)$/.exec(e);
        assert.ok(m, `${step.id}: ${e} is an onCommand event`);
        assert.ok(contributed.has(m[1] as string), `${step.id}: ${e} names a contributed command`);
      }
      assert.ok(events.includes(`onCommand:${links[0]?.id}`), `${step.id}: its link completes it`);
    }
  });

  test('every step shows media that exists and ships (under media/)', () => {
    for (const step of walkthrough?.steps ?? []) {
      const files = [
        step.media.markdown,
        step.media.svg,
        ...(typeof step.media.image === 'string'
          ? [step.media.image]
          : Object.values(step.media.image ?? {})),
      ].filter((f): f is string => f !== undefined);
      assert.ok(files.length > 0, `${step.id}: has media`);
      for (const f of files) {
        assert.ok(f.startsWith('media/'), `${step.id}: ${f} is under media/`);
        assert.ok(existsSync(path.join(ROOT, f)), `${step.id}: ${f} exists`);
      }
    }
  });
});

test('the views welcome content offers the same first steps, through contributed commands', () => {
  const views = new Set(Object.values(pkg.contributes.views).flatMap((v) => v.map((x) => x.id)));
  const offered = new Set<string>();
  for (const w of pkg.contributes.viewsWelcome) {
    assert.ok(views.has(w.view), `${w.view} is a contributed view`);
    for (const link of commandLinks(w.contents)) {
      checkLink(link, w.view);
      offered.add(link.id);
    }
  }
  for (const id of [
    COMMANDS.runDemo,
    COMMANDS.openSlowestTrace,
    COMMANDS.addTracingSetup,
    'workbench.action.openWalkthrough',
  ]) {
    assert.ok(offered.has(id), `welcome content offers ${id}`);
  }
});

test('the waterfall panel activates the extension when VS Code restores it', () => {
  const pkg = JSON.parse(
    readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'),
  ) as { activationEvents: string[] };
  assert.ok(pkg.activationEvents.includes(`onWebviewPanel:${WATERFALL_VIEW_TYPE}`));
  // The receiver restarts after a reload from `onStartupFinished` (core/receiver/run-memory.ts).
  assert.ok(pkg.activationEvents.includes('onStartupFinished'));
});
