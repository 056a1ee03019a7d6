/**
 * The decisions a scaffolding command makes around the core's edit: which OTLP transport and
 * endpoint a setup gets, which `service.name` it proposes, which names the input boxes accept,
 * and what the user is told about a result. Pure, so the editor layer only asks and shows.
 */
import * as path from 'node:path';
import type { OtlpProtocol, ScaffoldLanguage, ScaffoldResult } from './types.js';

/** A message for the user: the editor shows `info` as information, the rest as warnings. */
export interface Notice {
  severity: 'info' | 'warning';
  text: string;
}

/**
 * What the user is told about a result. `edited`: the core's messages (info/warning), none when
 * it had nothing to add. Otherwise exactly one notice: the core's first message (every
 * non-edited result carries one), or a fallback. `already-instrumented` is information (the
 * command did its job before); `unsupported` and `not-found` are warnings.
 */
export function resultNotices(result: Pick<ScaffoldResult, 'status' | 'messages'>): Notice[] {
  const prefix = (t: string): string => (t.startsWith('Stagelight') ? t : `Stagelight: ${t}`);
  if (result.status === 'edited') {
    return result.messages.map((m) => ({
      severity: m.severity === 'info' ? 'info' : 'warning',
      text: prefix(m.text),
    }));
  }
  const severity = result.status === 'already-instrumented' ? 'info' : 'warning';
  const first = result.messages.find((m) => m.severity === 'error') ?? result.messages[0];
  const text = first?.text ?? FALLBACK[result.status];
  return [{ severity, text: prefix(text) }];
}

const FALLBACK: Record<Exclude<ScaffoldResult['status'], 'edited'>, string> = {
  'already-instrumented': 'this code is already instrumented; nothing changed.',
  unsupported: 'this construct cannot be instrumented; nothing changed.',
  'not-found': 'nothing to instrument at the cursor; nothing changed.',
};

/** `stagelight.scaffold.protocol`: a fixed transport, or the language's usual one. */
export type ProtocolSetting = 'auto' | OtlpProtocol;

/**
 * The transport a generated setup uses. `auto` follows what each SDK's own documentation leads
 * with: gRPC for Python, Go and Java; OTLP/HTTP for TS/JS, whose HTTP exporter needs no
 * gRPC stack in the user's program.
 */
export function protocolFor(language: ScaffoldLanguage, setting: ProtocolSetting): OtlpProtocol {
  if (setting !== 'auto') return setting;
  return language === 'typescript' || language === 'javascript' ? 'http' : 'grpc';
}

/** The receiver's base URLs, as `RunningServer.endpoints` reports them. */
export interface ReceiverBaseUrls {
  /** `http://127.0.0.1:4317` */
  grpc: string;
  /** `http://127.0.0.1:4318` (no `/v1/traces`: the core adds the path where an exporter wants it). */
  http: string;
}

/**
 * The endpoint written into a setup. The running receiver's actual URLs win (a taken port moves
 * the listener); without one, the configured ports on 127.0.0.1, where `0` (any free port) falls
 * back to the OTLP default, since a random port cannot be written into code.
 */
export function endpointFor(
  protocol: OtlpProtocol,
  running: ReceiverBaseUrls | undefined,
  configured: { grpcPort: number; httpPort: number },
): string {
  if (running !== undefined) return protocol === 'grpc' ? running.grpc : running.http;
  const port = protocol === 'grpc' ? configured.grpcPort || 4317 : configured.httpPort || 4318;
  return `http://127.0.0.1:${port}`;
}

/**
 * A default `service.name`: the project's name, else the root folder's name, else the file's
 * base name; trimmed to the characters service names use in practice.
 */
export function defaultServiceName(
  projectName: string | undefined,
  rootDir: string | undefined,
  fileName: string,
): string {
  for (const candidate of [
    projectName,
    rootDir === undefined ? undefined : path.basename(rootDir),
    path.basename(fileName).replace(/\.[^.]*$/, ''),
  ]) {
    const clean = (candidate ?? '')
      .trim()
      .replace(/[^\w.\-/]+/g, '-')
      .replace(/^-+|-+$/g, '');
    if (clean !== '') return clean;
  }
  return 'service';
}

/** Why a `service.name` typed in the input box is refused; undefined when it is fine. */
export function validateServiceName(value: string): string | undefined {
  const v = value.trim();
  if (v === '') return 'service.name cannot be empty.';
  if (/["'\\\n\r`$]/.test(v)) return 'Leave out quotes, backslashes, `$` and line breaks.';
  return undefined;
}

/** Why a span name typed in the input box is refused; undefined when it is fine. */
export function validateSpanName(value: string): string | undefined {
  const v = value.trim();
  if (v === '') return 'The span name cannot be empty.';
  if (/["'\\\n\r`$]/.test(v)) return 'Leave out quotes, backslashes, `$` and line breaks.';
  return undefined;
}
