/**
 * Where the core writes what an operator should read: the receivers, the forwarder, the engine
 * and the analysis service log through this, and each host supplies it (the CLI prints to the
 * terminal, the extension writes to its output channel, tests stay quiet). Nothing in the core
 * writes to the console by itself.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
