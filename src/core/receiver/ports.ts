/**
 * Binding with a clear answer: when a port is taken the next free port is chosen (and said),
 * or, with a strict port, the error names the port and what to do; an address this machine
 * does not have, or a name that does not resolve, is said in one line too (`ListenError`).
 */
import net from 'node:net';
import type { Logger } from '../logger.js';

/** A listener could not be started; the message says why and what to do. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

export class PortInUseError extends ListenError {
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

// grpc-js reports bind failures as one Error whose message holds the system error's code, so
// both the `code` and the message are looked at.
function hasCode(e: unknown, code: string, pattern?: RegExp): boolean {
  const err = e as { code?: string; message?: string };
  if (err?.code === code) return true;
  const message = err?.message ?? '';
  return message.includes(code) || (pattern !== undefined && pattern.test(message));
}

function isAddrInUse(e: unknown): boolean {
  return hasCode(e, 'EADDRINUSE', /address already in use/i);
}

/**
 * The one-line `ListenError` for a failure to listen on `host:port`, or `e` itself when it is
 * none of the failures a user can fix by choosing another address or port.
 */
export function listenError(e: unknown, host: string, port: number, what: string): unknown {
  if (hasCode(e, 'EADDRNOTAVAIL', /address not available/i)) {
    return new ListenError(
      `${what}: cannot listen on ${host}: it is not an address of this machine. Use 127.0.0.1 ` +
        `(the default), 0.0.0.0 for every interface, or one of this machine's addresses.`,
    );
  }
  if (hasCode(e, 'ENOTFOUND', /Name resolution failed|EAI_AGAIN|No addresses resolved/i)) {
    return new ListenError(
      `${what}: cannot listen on "${host}": it is not an IP address and does not resolve to one.`,
    );
  }
  if (hasCode(e, 'EACCES', /permission denied/i)) {
    return new ListenError(
      `${what}: not allowed to listen on ${host}:${port} (ports below 1024 need privileges); ` +
        'choose another port.',
    );
  }
  return e;
}

/**
 * Listens on `host:port` with a plain TCP server and closes it again: proves that the port is
 * free and the address usable before a library that logs its own bind failures (grpc-js) is
 * asked. Rejects with the system error (EADDRINUSE, EADDRNOTAVAIL, ENOTFOUND, ...).
 */
export function probeListen(host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/**
 * Calls `bind(port)`; when the port is in use and not strict, tries the following ports and
 * logs which one was taken instead. Resolves with the bound port. Other failures to listen
 * become a `ListenError` naming `host`.
 */
export async function listenWithFallback(
  bind: (port: number) => Promise<number>,
  port: number,
  what: string,
  strict: boolean,
  log?: Logger,
  host = 'the bind address',
): Promise<number> {
  try {
    return await bind(port);
  } catch (e) {
    if (!isAddrInUse(e)) throw listenError(e, host, port, what);
    if (strict || port === 0) throw new PortInUseError(port, what);
  }
  for (let p = port + 1; p <= Math.min(65535, port + FALLBACK_TRIES); p++) {
    try {
      const bound = await bind(p);
      log?.warn(`${what} port ${port} is in use; using ${bound} instead.`);
      return bound;
    } catch (e) {
      if (!isAddrInUse(e)) throw listenError(e, host, p, what);
    }
  }
  throw new PortInUseError(port, what);
}
