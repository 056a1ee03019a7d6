/** `src/core/receiver/run-memory.ts`: the receiver starts again after a reload if it ran. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ReceiverRunMemory,
  WAS_RUNNING_KEY,
  type KeyValueMemory,
} from '../../src/core/receiver/run-memory.js';

/** A `Memento` in memory; it outlives the `ReceiverRunMemory`, as `workspaceState` a reload. */
function memento(): KeyValueMemory & { values: Map<string, unknown> } {
  const values = new Map<string, unknown>();
  return {
    values,
    get: <T>(key: string) => values.get(key) as T | undefined,
    update: async (key, value) => {
      if (value === undefined) values.delete(key);
      else values.set(key, value);
    },
  };
}

describe('ReceiverRunMemory', () => {
  it('starts nothing on a first activation unless startOnStartup asks', () => {
    const m = new ReceiverRunMemory(memento());
    assert.equal(m.startOnActivation(false), false);
    assert.equal(m.startOnActivation(true), true);
  });

  it('starts the receiver after a reload when it was running', async () => {
    const state = memento();
    await new ReceiverRunMemory(state).noteRunning();
    // The reload: deactivation stops the receiver but tells the memory nothing.
    assert.equal(new ReceiverRunMemory(state).startOnActivation(false), true);
    assert.equal(state.values.get(WAS_RUNNING_KEY), true);
  });

  it('leaves it stopped after the user stopped it', async () => {
    const state = memento();
    const m = new ReceiverRunMemory(state);
    await m.noteRunning();
    await m.noteStoppedByUser();
    assert.equal(new ReceiverRunMemory(state).startOnActivation(false), false);
    // startOnStartup still wins.
    assert.equal(new ReceiverRunMemory(state).startOnActivation(true), true);
  });
});
