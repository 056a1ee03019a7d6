/**
 * Who may use the HTTP port (OTLP/HTTP ingest and the read API) and, for the token, the gRPC
 * port. Both checks live here so that every route applies the same rule.
 *
 * Host check, against DNS rebinding: a web page the user visits can point its own name at
 * 127.0.0.1 once loaded, and its scripts then reach the receiver as "same origin": they could
 * read every stored trace (prompts included) and post spans. Such requests still carry the
 * page's name in `Host`. So only these `Host` values are answered, with any port:
 * - loopback names and addresses: `localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`;
 * - names allowed explicitly (`--allow-host`);
 * - the address the server is bound to when that is off loopback; when bound to every
 *   interface (0.0.0.0, ::), any IP literal: rebinding needs a DNS name, and a page whose origin
 *   is an IP address is that address's own origin, which the same-origin policy protects.
 * A request without `Host` (HTTP/1.0) is refused too: it cannot be told apart. This is what the
 * Jupyter and VS Code servers do.
 *
 * Token: once the port is reachable from other machines, the Host check proves nothing (a
 * remote client writes whatever Host it likes), so a bearer token guards the read API, and
 * ingest too when asked (`tokenForIngest`). It is compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export interface AccessOptions {
  /** The address the server listens on (`--host`). */
  bindHost: string;
  /** Names accepted in `Host` besides the loopback ones (`--allow-host`). */
  allowedHosts?: readonly string[];
  /** Bearer token; when set, every read API request must carry it. */
  token?: string;
  /** Require the token on OTLP ingest (HTTP and gRPC) as well. Needs `token`. */
  tokenForIngest?: boolean;
}

/** Why a request was refused: the HTTP status and a message for the client. */
export interface AccessDenial {
  status: 401 | 403;
  message: string;
}

/** What a request asks for: the read API (or an unknown route) or OTLP ingest. */
export type AccessScope = 'read' | 'ingest';

const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '[::]']);

// Host header characters: a name, an IPv4 address or a bracketed IPv6 address, then a port.
const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]{1,5}))?$/;

/**
 * The canonical host name of a `Host` value (`name[:port]`, `[v6][:port]`): lowercase, IPv4 and
 * IPv6 literals in their normal form (IPv6 bracketed), one trailing dot dropped. Undefined when
 * it is not a plain host (user info, a path, odd characters).
 */
export function canonicalHost(value: string): string | undefined {
  const m = HOST_HEADER.exec(value.trim());
  if (m === null) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${m[1]}/`);
  } catch {
    return undefined;
  }
  const host = url.hostname;
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** Whether a canonical host names this machine's loopback interface. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost') || host === '[::1]') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Whether a bind address (`--host`) keeps the server on loopback. */
export function isLoopbackBindAddress(bindHost: string): boolean {
  const host = canonicalHost(isIP(bindHost) === 6 ? `[${bindHost}]` : bindHost);
  return host !== undefined && isLoopbackHost(host);
}

/** A random token of 32 characters (192 bits), URL-safe. */
export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

// Hashing both sides first gives equal-length inputs, so neither the comparison's time nor its
// early exit on a length mismatch says anything about the token.
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export class AccessPolicy {
  private readonly allowed: ReadonlySet<string>;
  private readonly anyIpLiteral: boolean;
  readonly token: string | undefined;
  readonly tokenForIngest: boolean;

  constructor(opts: AccessOptions) {
    const allowed = new Set<string>();
    for (const name of opts.allowedHosts ?? []) {
      const host = canonicalHost(name);
      if (host === undefined) throw new Error(`not a host name: "${name}"`);
      allowed.add(host);
    }
    this.anyIpLiteral = WILDCARD_ADDRESSES.has(opts.bindHost);
    if (!this.anyIpLiteral && !isLoopbackBindAddress(opts.bindHost)) {
      const bound = canonicalHost(isIP(opts.bindHost) === 6 ? `[${opts.bindHost}]` : opts.bindHost);
      if (bound !== undefined) allowed.add(bound);
    }
    this.allowed = allowed;
    if (opts.tokenForIngest && opts.token === undefined) {
      throw new Error('a token is needed to require one for ingest');
    }
    this.token = opts.token;
    this.tokenForIngest = opts.tokenForIngest ?? false;
  }

  /** Whether requests of `scope` must carry the token. */
  needsToken(scope: AccessScope): boolean {
    return this.token !== undefined && (scope === 'read' || this.tokenForIngest);
  }

  /** Whether an `Authorization` value (`Bearer <token>`) carries the token. */
  tokenMatches(authorization: string | undefined): boolean {
    if (this.token === undefined) return true;
    if (authorization === undefined) return false;
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    return m !== null && sameSecret(m[1]!, this.token);
  }

  /** The refusal for a `Host` header value, or undefined when the host may be answered. */
  checkHost(hostHeader: string | undefined): AccessDenial | undefined {
    if (hostHeader === undefined || hostHeader === '') {
      return { status: 403, message: 'request refused: it has no Host header' };
    }
    const host = canonicalHost(hostHeader);
    if (host !== undefined) {
      if (isLoopbackHost(host) || this.allowed.has(host)) return undefined;
      if (this.anyIpLiteral && (isIP(host) === 4 || host.startsWith('['))) return undefined;
    }
    return {
      status: 403,
      message:
        `request refused: Host "${hostHeader.slice(0, 100)}" is not allowed. Stagelight answers ` +
        'loopback names (localhost, 127.0.0.1, [::1]), its --host address and hosts given ' +
        'with --allow-host, ' +
        'so that web pages cannot reach it by rebinding their DNS name',
    };
  }

  /** The refusal for a request of `scope` that lacks the token it needs, else undefined. */
  checkToken(authorization: string | undefined, scope: AccessScope): AccessDenial | undefined {
    if (!this.needsToken(scope) || this.tokenMatches(authorization)) return undefined;
    const what = scope === 'read' ? 'the read API' : 'OTLP ingest';
    return {
      status: 401,
      message:
        authorization === undefined
          ? `${what} needs the access token: send "Authorization: Bearer <token>"`
          : `wrong access token for ${what}`,
    };
  }
}
