/**
 * Interop with the OpenTelemetry SDKs of the other languages users write (Python, Go, Java), each
 * through its own OTLP exporter, configured from the OTEL_EXPORTER_OTLP_* variables as in a
 * user's program: over gRPC and over HTTP protobuf, gzip on and off. One trace per run carries
 * every attribute type (strings with escapes, bools, ints up to 2^62, doubles, arrays of each),
 * span kinds, events, links with attributes, error and ok status, resource and scope with
 * version and schema URL. What the read API returns (GET /api/traces/{id}, OTLP JSON) must be
 * each field exactly as the SDK encoded it: the programs write their SDK's own wire encoding
 * (protobuf's JSON mapping of the messages the exporter sent), and the test compares with that,
 * not with expectations written by hand. The programs are test/interop/{python,go,java}; their
 * toolchains are installed by helpers/sdk-toolchains.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SPAN_KIND_NAMES, STATUS_CODE_NAMES } from '../../src/core/otlp/otlp-json-request.js';
import type { RunningServer } from '../../src/core/server.js';
import { getJson, startTestServer } from './helpers/server.js';
import {
  goInteropProgram,
  javaInteropProgram,
  pythonInteropProgram,
  runToEnd,
  type Program,
} from './helpers/sdk-toolchains.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'stagelight-sdk-interop-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);
/** The value of an AnyValue is data, kept even when it is a default (false, 0, ""). */
const VALUE_KEYS = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue']);

/** Ids as lowercase hex (protobuf's JSON mapping writes bytes as base64, OTLP JSON as hex). */
function hexId(v: string): string {
  return /^[0-9a-f]*$/.test(v) && (v.length === 32 || v.length === 16)
    ? v
    : Buffer.from(v, 'base64').toString('hex');
}

/**
 * One form for both sides: ids in hex, enums as numbers, and fields at their default value
 * left out (proto3's JSON mapping omits them; OTLP JSON may write them), except an AnyValue's.
 */
function canonical(v: Json, key = ''): Json | undefined {
  if (Array.isArray(v)) {
    const list = v.map((x) => canonical(x)).filter((x) => x !== undefined) as Json[];
    return list.length === 0 ? undefined : list;
  }
  if (v !== null && typeof v === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) {
      let c: Json | undefined;
      if (ID_KEYS.has(k) && typeof x === 'string') c = x === '' ? undefined : hexId(x);
      else if (k === 'kind' && typeof x === 'string') c = SPAN_KIND_NAMES[x] ?? x;
      else if (k === 'code' && key === 'status' && typeof x === 'string')
        c = STATUS_CODE_NAMES[x] ?? x;
      else if (VALUE_KEYS.has(k)) c = x;
      else c = canonical(x, k);
      // Numbers as JSON numbers or strings (int64 fields): compared as text.
      if (typeof c === 'number' && !VALUE_KEYS.has(k)) c = c === 0 ? undefined : String(c);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length === 0 && !VALUE_KEYS.has(key) ? undefined : out;
  }
  if (v === '' || v === false || v === 0) return undefined;
  return v;
}

interface Flat {
  resource: Json | undefined;
  resourceSchemaUrl: Json | undefined;
  scope: Json | undefined;
  scopeSchemaUrl: Json | undefined;
  span: Json | undefined;
}

/** Every span with its resource and scope, in span-id order, in the canonical form. */
function flatten(requests: Json[]): Flat[] {
  const out: Array<Flat & { id: string }> = [];
  for (const req of requests as Array<{ resourceSpans?: Json[] }>) {
    for (const rs of (req.resourceSpans ?? []) as Array<Record<string, Json>>) {
      for (const ss of (rs.scopeSpans ?? []) as Array<Record<string, Json>>) {
        for (const span of (ss.spans ?? []) as Array<Record<string, Json>>) {
          out.push({
            id: hexId(String(span.spanId)),
            resource: canonical(rs.resource ?? null),
            resourceSchemaUrl: canonical(rs.schemaUrl ?? ''),
            scope: canonical(ss.scope ?? null),
            scopeSchemaUrl: canonical(ss.schemaUrl ?? ''),
            span: canonical(span),
          });
        }
      }
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id)).map(({ id: _id, ...f }) => f);
}

const RUNS: ReadonlyArray<{ language: string; program: () => Program }> = [
  { language: 'Python', program: pythonInteropProgram },
  { language: 'Go', program: goInteropProgram },
  { language: 'Java', program: javaInteropProgram },
];

const TRANSPORTS = [
  { protocol: 'grpc', endpoint: (s: RunningServer) => s.endpoints.grpc },
  { protocol: 'http/protobuf', endpoint: (s: RunningServer) => s.endpoints.http },
] as const;

for (const run of RUNS) {
  describe(`the ${run.language} SDK's OTLP exporters`, { timeout: 1_200_000 }, () => {
    let program: Program;
    let server: RunningServer;

    before(async () => {
      program = run.program();
      server = await startTestServer({}, false);
    });
    after(() => server?.close());

    for (const transport of TRANSPORTS) {
      for (const compression of ['gzip', 'none'] as const) {
        it(`over ${transport.protocol}, compression ${compression}: every field as the SDK encoded it`, async (t) => {
          if (!program.ok) return t.skip(program.reason);
          const out = path.join(
            tmp,
            `${run.language}-${transport.protocol.replace('/', '-')}-${compression}.json`,
          );
          const env: NodeJS.ProcessEnv = {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            OTEL_EXPORTER_OTLP_PROTOCOL: transport.protocol,
            OTEL_EXPORTER_OTLP_ENDPOINT: transport.endpoint(server),
            OTEL_EXPORTER_OTLP_TIMEOUT: '10000',
            // Unset is the SDKs' default, uncompressed (Python's gRPC exporter refuses "none").
            ...(compression === 'gzip' ? { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' } : {}),
          };
          const { code, out: output } = await runToEnd(program.command, [...program.args, out], {
            env,
            timeoutMs: 120_000,
          });
          assert.equal(code, 0, `${program.command} exited with ${code}:\n${output}`);
          const sent = JSON.parse(readFileSync(out, 'utf8')) as {
            traceId: string;
            requests: Json[];
          };
          const expected = flatten(sent.requests);
          assert.equal(expected.length, 6, 'the program encoded six spans');
          const { status, body } = await getJson(`${server.endpoints.api}/traces/${sent.traceId}`);
          assert.equal(status, 200, `the trace arrived (${output.trim() || 'no output'})`);
          const stored = flatten([body as Json]);
          assert.deepEqual(stored, expected);
        });
      }
    }
  });
}
