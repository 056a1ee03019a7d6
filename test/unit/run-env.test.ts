import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  addTracingEnv,
  debugTypeLanguage,
  envFileKeys,
  exporterProtocolIn,
  programProtocol,
  runCommand,
  runCommandLine,
  tracingEnv,
} from '../../src/core/scaffold/run-env.js';

const receiver = { grpc: 'http://127.0.0.1:5317', http: 'http://127.0.0.1:5318' };

describe('tracingEnv', () => {
  test('the gRPC base and protocol for a gRPC exporter', () => {
    assert.deepEqual(tracingEnv(receiver, 'grpc', 'ranker'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:5317',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_SERVICE_NAME: 'ranker',
    });
  });
  test('the HTTP base (no /v1/traces: the SDKs add it) for an HTTP exporter', () => {
    assert.deepEqual(tracingEnv(receiver, 'http', 'web'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:5318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: 'web',
    });
  });
});

describe('programProtocol', () => {
  test('without a setup in the source: what Add Tracing Setup writes for the language', () => {
    assert.equal(programProtocol('python', 'auto'), 'grpc');
    assert.equal(programProtocol('go', 'auto'), 'grpc');
    assert.equal(programProtocol('java', 'auto'), 'grpc');
    assert.equal(programProtocol('typescript', 'auto'), 'http');
    assert.equal(programProtocol('javascript', 'auto'), 'http');
    assert.equal(programProtocol('python', 'http'), 'http');
    assert.equal(programProtocol('javascript', 'grpc'), 'grpc');
  });
  test('the exporter the source constructs wins over the setting', () => {
    const py = 'from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter';
    assert.equal(programProtocol('python', 'grpc', py), 'http');
    assert.equal(exporterProtocolIn("require('@opentelemetry/exporter-trace-otlp-grpc')"), 'grpc');
    assert.equal(exporterProtocolIn("from '@opentelemetry/exporter-trace-otlp-proto'"), 'http');
    assert.equal(
      exporterProtocolIn('"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"'),
      'http',
    );
    assert.equal(exporterProtocolIn('OtlpGrpcSpanExporter.builder()'), 'grpc');
    // Both, or neither: no clue from the source.
    assert.equal(exporterProtocolIn('otlptracegrpc otlptracehttp'), undefined);
    assert.equal(exporterProtocolIn('print("hi")'), undefined);
  });
});

describe('addTracingEnv', () => {
  const tracing = tracingEnv(receiver, 'grpc', 'svc');
  test('adds the variables to a configuration without env', () => {
    assert.deepEqual(addTracingEnv(undefined, tracing), {
      env: tracing,
      added: ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_SERVICE_NAME'],
    });
  });
  test("keeps the user's values, null (unset) included, and what their env file sets", () => {
    const r = addTracingEnv(
      { OTEL_SERVICE_NAME: 'mine', OTEL_EXPORTER_OTLP_PROTOCOL: null, DEBUG: '1' },
      tracing,
      envFileKeys('# comment\nexport OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4317\n'),
    );
    assert.deepEqual(r, {
      env: { OTEL_SERVICE_NAME: 'mine', OTEL_EXPORTER_OTLP_PROTOCOL: null, DEBUG: '1' },
      added: [],
    });
  });
});

test('envFileKeys', () => {
  assert.deepEqual(
    [...envFileKeys('A=1\r\n  export B = 2\n# C=3\nnot a line\n_D=\n')],
    ['A', 'B', '_D'],
  );
});

test('debugTypeLanguage', () => {
  assert.equal(debugTypeLanguage('debugpy'), 'python');
  assert.equal(debugTypeLanguage('python'), 'python');
  assert.equal(debugTypeLanguage('node'), 'javascript');
  assert.equal(debugTypeLanguage('pwa-node'), 'javascript');
  assert.equal(debugTypeLanguage('go'), 'go');
  assert.equal(debugTypeLanguage('java'), 'java');
  assert.equal(debugTypeLanguage('chrome'), undefined);
  assert.equal(debugTypeLanguage('toString'), undefined);
});

describe('runCommand', () => {
  const root = path.join(path.sep, 'w', 'app');
  const file = (p: string) => path.join(root, p);
  test('each language, from the project root', () => {
    const opts = { python: '/w/app/.venv/bin/python', projectRoot: root };
    assert.deepEqual(runCommand(file('src/main.py'), 'python', opts), {
      argv: ['/w/app/.venv/bin/python', path.join('src', 'main.py')],
      cwd: root,
    });
    assert.deepEqual(runCommand(file('index.js'), 'javascript', opts), {
      argv: ['node', 'index.js'],
      cwd: root,
    });
    assert.deepEqual(runCommand(file('src/main.ts'), 'typescript', opts), {
      argv: ['npx', 'tsx', path.join('src', 'main.ts')],
      cwd: root,
    });
    assert.deepEqual(runCommand(file('Main.java'), 'java', opts), {
      argv: ['java', 'Main.java'],
      cwd: root,
    });
  });
  test("Go runs the file's package inside a module, the file alone outside one", () => {
    assert.deepEqual(
      runCommand(file('cmd/server/main.go'), 'go', { python: 'python3', goModule: true }),
      {
        argv: ['go', 'run', '.'],
        cwd: file('cmd/server'),
      },
    );
    assert.deepEqual(runCommand(file('main.go'), 'go', { python: 'python3' }), {
      argv: ['go', 'run', 'main.go'],
      cwd: root,
    });
  });
  test('without a project root, from the file folder', () => {
    assert.deepEqual(runCommand(file('x.py'), 'python', { python: 'python3' }), {
      argv: ['python3', 'x.py'],
      cwd: root,
    });
  });
  test('the command line, quoted', () => {
    assert.equal(
      runCommandLine({ argv: ['python3', 'my script.py'], cwd: root }, 'posix'),
      "python3 'my script.py'",
    );
  });
});
