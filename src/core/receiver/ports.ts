/**
 * Binding with a clear answer when a port is taken: the next free port is chosen (and said), or,
 * with a strict port, the error names the port and what to do.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly what: string,
  ) {
    super(
      `${what} port ${port} is already in use (another Stagelight or OpenTelemetry collector?). ` +
        `Stop that process, or choose another port (0 = any free port).`,
    );
    this.name = 'PortInUseError';
  }
}

/** How many ports after a taken one are tried. */
const FALLBACK_TRIES = 20;

function isAddrInUse(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    err?.code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(err?.message ?? '')
  );
}

/**
 * Calls `bind(port)`; when the port is in use and not strict, tries the following ports and
 * logs which one was taken instead. Resolves with the bound port.
 */
export async function listenWithFallback(
  bind: (port: number) => Promise<number>,
  port: number,
  what: string,
  strict: boolean,
  log?: Logger,
): Promise<number> {
  try {
    return await bind(port);
  } catch (e) {
    if (!isAddrInUse(e)) throw e;
    if (strict || port === 0) throw new PortInUseError(port, what);
  }
  for (let p = port + 1; p <= Math.min(65535, port + FALLBACK_TRIES); p++) {
    try {
      const bound = await bind(p);
      log?.warn(`${what} port ${port} is in use; using ${bound} instead.`);
      return bound;
    } catch (e) {
      if (!isAddrInUse(e)) throw e;
    }
  }
  throw new PortInUseError(port, what);
}
