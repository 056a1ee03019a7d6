/** `src/shared/receiver-text.ts`: where to send spans, from the ports actually bound. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  copiedEndpointText,
  endpointsText,
  httpTracesUrl,
  noTraceHint,
} from '../../src/shared/receiver-text.js';

const moved = { grpc: 'http://127.0.0.1:4319', http: 'http://127.0.0.1:4320' };

describe('receiver texts', () => {
  it('name the bound ports', () => {
    assert.equal(endpointsText(moved), 'OTLP/gRPC on 127.0.0.1:4319, OTLP/HTTP on 127.0.0.1:4320');
    assert.match(noTraceHint(moved), /127\.0\.0\.1:4319.*127\.0\.0\.1:4320/);
    assert.doesNotMatch(noTraceHint(moved), /4317|4318/);
  });

  it('do not name ports while the receiver is stopped', () => {
    assert.doesNotMatch(noTraceHint(null), /\d{4}/);
  });

  it('say which variable takes which form of the HTTP endpoint', () => {
    assert.equal(httpTracesUrl(moved), 'http://127.0.0.1:4320/v1/traces');
    assert.equal(
      copiedEndpointText('http', moved),
      'Stagelight: copied the OTLP/HTTP endpoint http://127.0.0.1:4320, for ' +
        'OTEL_EXPORTER_OTLP_ENDPOINT (the SDK adds /v1/traces); ' +
        'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT takes the full http://127.0.0.1:4320/v1/traces.',
    );
  });

  it('say that gRPC takes the same URL in both variables', () => {
    const text = copiedEndpointText('grpc', moved);
    assert.match(text, /copied the OTLP\/gRPC endpoint http:\/\/127\.0\.0\.1:4319,/);
    assert.match(text, /OTEL_EXPORTER_OTLP_ENDPOINT/);
    assert.match(text, /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the same URL/);
    assert.doesNotMatch(text, /v1\/traces/);
  });
});
