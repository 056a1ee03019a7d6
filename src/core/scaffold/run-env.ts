/**
 * The environment and command line of the user's program under **Run with Tracing** and the
 * debug sessions Stagelight adds to: `OTEL_EXPORTER_OTLP_ENDPOINT` at the receiver's current
 * port, so a generated setup (which reads it first) and any SDK configured from the environment
 * send there, whatever port the receiver got this time. Pure: the editor supplies the receiver's
 * URLs, the setting and the file, and applies the result.
 */
import * as path from 'node:path';
import { protocolFor, type ProtocolSetting, type ReceiverBaseUrls } from './command-choices.js';
import { OTLP_ENDPOINT_ENV } from './options.js';
import { commandLine, type ShellKind } from './python-interpreter.js';
import { ZERO_CODE_BOOTSTRAP } from './python-zero-code.js';
import type { OtlpProtocol, ScaffoldLanguage } from './types.js';

export const OTLP_PROTOCOL_ENV = 'OTEL_EXPORTER_OTLP_PROTOCOL';
export const SERVICE_NAME_ENV = 'OTEL_SERVICE_NAME';

/** Debug configuration types that get the tracing environment, and the language each runs. */
export const TRACED_DEBUG_TYPES: Readonly<Record<string, ScaffoldLanguage>> = {
  python: 'python',
  debugpy: 'python',
  node: 'javascript',
  'pwa-node': 'javascript',
  go: 'go',
  java: 'java',
};

/** The language a debug configuration type runs, if Stagelight adds to it. */
export function debugTypeLanguage(type: string): ScaffoldLanguage | undefined {
  return Object.hasOwn(TRACED_DEBUG_TYPES, type) ? TRACED_DEBUG_TYPES[type] : undefined;
}

/**
 * The transport the program's exporter speaks: the one its source constructs (a generated setup
 * names its exporter), else what Add Tracing Setup would write for the language and setting.
 */
export function programProtocol(
  language: ScaffoldLanguage,
  setting: ProtocolSetting,
  source?: string,
): OtlpProtocol {
  return exporterProtocolIn(source ?? '') ?? protocolFor(language, setting);
}

/** The OTLP exporter a source file constructs, by its import or class name. */
export function exporterProtocolIn(source: string): OtlpProtocol | undefined {
  const grpc = /otlp\.proto\.grpc|exporter-trace-otlp-grpc|otlptracegrpc|OtlpGrpcSpanExporter/.test(
    source,
  );
  const http =
    /otlp\.proto\.http|exporter-trace-otlp-(http|proto)|otlptracehttp|OtlpHttpSpanExporter/.test(
      source,
    );
  if (grpc === http) return undefined;
  return grpc ? 'grpc' : 'http';
}

/**
 * The variables for a traced run. The endpoint is the receiver's base URL for the protocol
 * (SDKs append `/v1/traces` for OTLP/HTTP themselves). The protocol is always set, matching the
 * endpoint: SDKs that pick their exporter from the environment default differently (the Java
 * agent, Go's autoexport and the JS NodeSDK to `http/protobuf`, Python's distro to `grpc`), and
 * one that guessed the other transport would send to the wrong port.
 */
export function tracingEnv(
  receiver: ReceiverBaseUrls,
  protocol: OtlpProtocol,
  serviceName: string,
): Record<string, string> {
  return {
    [OTLP_ENDPOINT_ENV]: protocol === 'grpc' ? receiver.grpc : receiver.http,
    [OTLP_PROTOCOL_ENV]: protocol === 'grpc' ? 'grpc' : 'http/protobuf',
    [SERVICE_NAME_ENV]: serviceName,
  };
}

/**
 * The variables for a Python program run under `opentelemetry-instrument`: the traced run's,
 * plus the exporters the distro picks. Traces go over OTLP; metrics and logs are off, since the
 * receiver takes traces only and the distro would otherwise export them to it too.
 */
export function zeroCodeTracingEnv(
  receiver: ReceiverBaseUrls,
  protocol: OtlpProtocol,
  serviceName: string,
): Record<string, string> {
  return {
    ...tracingEnv(receiver, protocol, serviceName),
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
  };
}

/** The names an env file (`KEY=value`, `export KEY=value`, comments) sets. */
export function envFileKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    if (m) keys.add(m[1]!);
  }
  return keys;
}

/**
 * A debug configuration's `env` with the tracing variables added, keeping every value the user
 * set: in `env` (a `null`, which unsets a variable in some adapters, counts as set) or in the
 * configuration's env file (`userKeys`). The added names are returned too, for the log.
 */
export function addTracingEnv(
  env: Readonly<Record<string, string | null | undefined>> | undefined,
  tracing: Readonly<Record<string, string>>,
  userKeys: ReadonlySet<string> = new Set(),
): { env: Record<string, string | null>; added: string[] } {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(env ?? {})) if (v !== undefined) out[k] = v;
  const added: string[] = [];
  for (const [k, v] of Object.entries(tracing)) {
    if (Object.hasOwn(out, k) || userKeys.has(k)) continue;
    out[k] = v;
    added.push(k);
  }
  return { env: out, added };
}

/** What Run with Tracing starts for a file, and where. */
export interface RunCommand {
  argv: string[];
  cwd: string;
}

/**
 * The command that runs a file: Python with `python` (the chosen interpreter; under
 * `opentelemetry-instrument` with `zeroCode`), JavaScript with
 * `node`, TypeScript with `npx tsx`, Go with `go run` (the file's package, `.`, inside a module;
 * the file alone outside one), Java with the single-file source launcher (`java File.java`,
 * Java 11+). `cwd` is the project root (where imports resolve from), the file's folder for Go.
 */
export function runCommand(
  fileName: string,
  language: ScaffoldLanguage,
  opts: { python: string; projectRoot?: string; goModule?: boolean; zeroCode?: boolean },
): RunCommand {
  const dir = path.dirname(fileName);
  const cwd = opts.projectRoot ?? dir;
  const rel = path.relative(cwd, fileName) || path.basename(fileName);
  switch (language) {
    case 'python':
      // Zero-code: `opentelemetry-instrument <python> file.py`, through the chosen interpreter
      // (see ZERO_CODE_BOOTSTRAP), which then runs the file with that same interpreter.
      return opts.zeroCode
        ? { argv: [opts.python, '-c', ZERO_CODE_BOOTSTRAP, opts.python, rel], cwd }
        : { argv: [opts.python, rel], cwd };
    case 'javascript':
      return { argv: ['node', rel], cwd };
    case 'typescript':
      return { argv: ['npx', 'tsx', rel], cwd };
    case 'go':
      return opts.goModule
        ? { argv: ['go', 'run', '.'], cwd: dir }
        : { argv: ['go', 'run', path.basename(fileName)], cwd: dir };
    case 'java':
      return { argv: ['java', rel], cwd };
  }
}

/** The command line to type into a terminal for `cmd`. */
export function runCommandLine(cmd: RunCommand, shell: ShellKind): string {
  return commandLine(cmd.argv, shell);
}
