/**
 * Whether the receiver should start when the extension activates: it was running when the
 * window last closed or reloaded (a reload deactivates the extension, which stops the receiver,
 * and spans sent after it would be refused until someone started it again), or the user asked
 * for it at every startup (`stagelight.receiver.startOnStartup`).
 *
 * Invariant: only the user's Stop Receiver forgets that it ran. Deactivation stops the receiver
 * too, and must not count as the user's choice.
 *
 * The memory is a key-value store with VS Code's `Memento` shape (the editor passes its
 * `workspaceState`: per workspace, as the ports and the traces are), so this runs in plain Node.
 */

/** The part of VS Code's `Memento` this uses. */
export interface KeyValueMemory {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export const WAS_RUNNING_KEY = 'stagelight.receiver.wasRunning';

export class ReceiverRunMemory {
  constructor(private readonly memory: KeyValueMemory) {}

  /** True when activation should start the receiver. */
  startOnActivation(startOnStartup: boolean): boolean {
    return startOnStartup || this.memory.get<boolean>(WAS_RUNNING_KEY) === true;
  }

  /** The receiver is running: start it again after a reload. */
  async noteRunning(): Promise<void> {
    if (this.memory.get<boolean>(WAS_RUNNING_KEY) !== true) {
      await this.memory.update(WAS_RUNNING_KEY, true);
    }
  }

  /** The user stopped it: leave it stopped after a reload. */
  async noteStoppedByUser(): Promise<void> {
    await this.memory.update(WAS_RUNNING_KEY, undefined);
  }
}
