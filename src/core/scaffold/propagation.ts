/**
 * `Propagate Context`: code that carries the trace across a process or queue boundary, per
 * language where the library exists. The producer side injects the current context into a
 * carrier (message headers, gRPC metadata, HTTP headers, an argument); the consumer side
 * extracts it and starts its span as a child of the producer's, so the time a message waited
 * shows up as the gap between the two (Stagelight's queue-wait segment).
 *
 * Bodies use VS Code snippet syntax (`${1:producer}`); `insertPropagation` inserts them with
 * the placeholders' defaults and the imports they need, and the same catalogue generates the
 * `contributes.snippets` files.
 */
import type { ScaffoldLanguage, ScaffoldResult, TextEdit } from './types.js';
import { edited, indentAt, lineStart, refuse } from './text.js';
import { pythonImportEdits, pythonTracerName } from './python.js';
import { tsImportEdits, tsTracerName } from './typescript.js';
import { goImportEdits, goTracerName } from './go.js';
import { javaImportEdits } from './java.js';

export type PropagationPattern =
  | 'kafka-producer'
  | 'kafka-consumer'
  | 'grpc-client'
  | 'grpc-server'
  | 'http-client'
  | 'http-server'
  | 'ray-remote-call'
  | 'ray-remote-task'
  | 'queue-producer'
  | 'queue-consumer';

/** Imports a snippet needs, in each language's terms. */
export type SnippetImports =
  | { kind: 'python'; from: readonly (readonly [string, string])[] }
  | { kind: 'ts'; modules: readonly { module: string; names: readonly string[] }[] }
  | { kind: 'go'; paths: readonly string[] }
  | { kind: 'java'; fqns: readonly string[] };

export interface PropagationSnippet {
  pattern: PropagationPattern;
  /** Languages the body is valid in (TS and JS share annotation-free bodies). */
  languages: readonly ScaffoldLanguage[];
  title: string;
  /** The library the snippet targets, and the auto-instrumentation package where there is one. */
  library: string;
  description: string;
  /** Lines in snippet syntax, indented with `\t` per level (converted to the file's indent). */
  body: readonly string[];
  imports: SnippetImports;
  /** True when the body refers to the file's tracer (`tracer` / `tracer()`). */
  usesTracer: boolean;
}

const PY_PROPAGATE: [string, string][] = [['opentelemetry.propagate', 'inject']];
const PY_EXTRACT: [string, string][] = [
  ['opentelemetry.propagate', 'extract'],
  ['opentelemetry', 'trace'],
];
const TS_API = (...names: string[]) => ({
  kind: 'ts' as const,
  modules: [{ module: '@opentelemetry/api', names }],
});
const JAVA_PROP = ['io.opentelemetry.api.GlobalOpenTelemetry', 'io.opentelemetry.context.Context'];

/** `{{asError}}` becomes ` as Error` in TypeScript and nothing in JavaScript. */
const AS_ERROR = '{{asError}}';

export const PROPAGATION_SNIPPETS: readonly PropagationSnippet[] = [
  // ---- Python ----
  {
    pattern: 'kafka-producer',
    languages: ['python'],
    title: 'Kafka producer: inject the trace into message headers',
    library: 'confluent-kafka or kafka-python',
    description: 'Starts a PRODUCER span and sends the W3C trace context as Kafka headers.',
    body: [
      'with tracer.start_as_current_span(f"{${1:topic}} publish", kind=trace.SpanKind.PRODUCER):',
      '\tcarrier = {}',
      '\tinject(carrier)',
      '\t${2:producer}.produce(${1:topic}, value=${3:payload}, headers=[(k, v.encode()) for k, v in carrier.items()])',
    ],
    imports: { kind: 'python', from: [...PY_PROPAGATE, ['opentelemetry', 'trace']] },
    usesTracer: true,
  },
  {
    pattern: 'kafka-consumer',
    languages: ['python'],
    title: "Kafka consumer: continue the producer's trace",
    library: 'confluent-kafka (msg.headers(), msg.topic())',
    description:
      'Extracts the context from the message headers; the CONSUMER span is a child of the producer span.',
    body: [
      'carrier = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in (${1:msg}.headers() or [])}',
      'with tracer.start_as_current_span(f"{${1:msg}.topic()} process", context=extract(carrier), kind=trace.SpanKind.CONSUMER):',
      '\t${2:handle(${1:msg})}',
    ],
    imports: { kind: 'python', from: PY_EXTRACT },
    usesTracer: true,
  },
  {
    pattern: 'grpc-client',
    languages: ['python'],
    title: 'gRPC client: send the trace in metadata',
    library:
      'grpcio (or opentelemetry-instrumentation-grpc: GrpcInstrumentorClient().instrument())',
    description: 'Injects the current context into the call metadata.',
    body: [
      'carrier = {}',
      'inject(carrier)',
      '${1:response} = ${2:stub}.${3:Method}(${4:request}, metadata=list(carrier.items()))',
    ],
    imports: { kind: 'python', from: PY_PROPAGATE },
    usesTracer: false,
  },
  {
    pattern: 'grpc-server',
    languages: ['python'],
    title: "gRPC server: continue the caller's trace",
    library:
      'grpcio (or opentelemetry-instrumentation-grpc: GrpcInstrumentorServer().instrument())',
    description:
      'Extracts the context from the invocation metadata; the SERVER span is a child of the client span.',
    body: [
      'parent = extract(dict(${1:context}.invocation_metadata()))',
      'with tracer.start_as_current_span("${2:Method}", context=parent, kind=trace.SpanKind.SERVER):',
      '\t${3:pass}',
    ],
    imports: { kind: 'python', from: PY_EXTRACT },
    usesTracer: true,
  },
  {
    pattern: 'http-client',
    languages: ['python'],
    title: 'HTTP client: send the trace in headers',
    library: 'requests or httpx (or opentelemetry-instrumentation-requests / -httpx)',
    description: 'Injects the current context into the request headers (traceparent).',
    body: [
      'headers = {}',
      'inject(headers)',
      '${1:response} = ${2:requests}.post(${3:url}, json=${4:payload}, headers=headers)',
    ],
    imports: { kind: 'python', from: PY_PROPAGATE },
    usesTracer: false,
  },
  {
    pattern: 'http-server',
    languages: ['python'],
    title: "HTTP handler: continue the caller's trace",
    library: 'any framework with request.headers (or its opentelemetry-instrumentation package)',
    description:
      'Extracts the context from the request headers; the SERVER span is a child of the client span.',
    body: [
      'with tracer.start_as_current_span("${1:handle}", context=extract(dict(${2:request}.headers)), kind=trace.SpanKind.SERVER):',
      '\t${3:pass}',
    ],
    imports: { kind: 'python', from: PY_EXTRACT },
    usesTracer: true,
  },
  {
    pattern: 'ray-remote-call',
    languages: ['python'],
    title: 'Ray: pass the trace to a remote task',
    library: 'ray',
    description: 'Sends the current context as a carrier dict argument of the remote call.',
    body: ['carrier = {}', 'inject(carrier)', '${1:ref} = ${2:task}.remote(${3:payload}, carrier)'],
    imports: { kind: 'python', from: PY_PROPAGATE },
    usesTracer: false,
  },
  {
    pattern: 'ray-remote-task',
    languages: ['python'],
    title: "Ray: a remote task that continues the caller's trace",
    library: 'ray (the worker process needs its own tracing setup)',
    description:
      'The task extracts the carrier argument and starts its span as a child of the caller.',
    body: [
      '@ray.remote',
      'def ${1:task}(${2:payload}, carrier):',
      '\twith tracer.start_as_current_span("${1:task}", context=extract(carrier)):',
      '\t\t${3:return ${2:payload}}',
    ],
    imports: { kind: 'python', from: PY_EXTRACT },
    usesTracer: true,
  },
  {
    pattern: 'queue-producer',
    languages: ['python'],
    title: 'asyncio / worker queue: put the trace with the item',
    library: 'asyncio.Queue, queue.Queue, multiprocessing queues',
    description: 'Puts the item together with a carrier dict of the current context.',
    body: ['carrier = {}', 'inject(carrier)', 'await ${1:queue}.put((${2:item}, carrier))'],
    imports: { kind: 'python', from: PY_PROPAGATE },
    usesTracer: false,
  },
  {
    pattern: 'queue-consumer',
    languages: ['python'],
    title: "asyncio / worker queue: process an item in the producer's trace",
    library: 'asyncio.Queue, queue.Queue, multiprocessing queues',
    description:
      'The CONSUMER span is a child of the producer; the wait in the queue shows as the gap before it.',
    body: [
      '${2:item}, carrier = await ${1:queue}.get()',
      'with tracer.start_as_current_span("${3:process}", context=extract(carrier), kind=trace.SpanKind.CONSUMER):',
      '\t${4:pass}',
    ],
    imports: { kind: 'python', from: PY_EXTRACT },
    usesTracer: true,
  },
  // ---- TypeScript / JavaScript ----
  {
    pattern: 'kafka-producer',
    languages: ['typescript', 'javascript'],
    title: 'Kafka producer: inject the trace into message headers',
    library: 'kafkajs',
    description: 'Sends the W3C trace context as Kafka message headers.',
    body: [
      'const headers = {};',
      'propagation.inject(context.active(), headers);',
      'await ${1:producer}.send({ topic: ${2:topic}, messages: [{ value: ${3:payload}, headers }] });',
    ],
    imports: TS_API('context', 'propagation'),
    usesTracer: false,
  },
  {
    pattern: 'kafka-consumer',
    languages: ['typescript', 'javascript'],
    title: "Kafka consumer: continue the producer's trace",
    library: 'kafkajs (eachMessage)',
    description:
      'Extracts the context from the headers; the CONSUMER span is a child of the producer span.',
    body: [
      'const carrier = Object.fromEntries(',
      '\tObject.entries(${1:message}.headers ?? {}).map(([k, v]) => [k, String(v)]),',
      ');',
      'const parent = propagation.extract(ROOT_CONTEXT, carrier);',
      'await tracer.startActiveSpan(`${${2:topic}} process`, { kind: SpanKind.CONSUMER }, parent, async (span) => {',
      '\ttry {',
      '\t\t${3:await handle(${1:message});}',
      '\t} catch (error) {',
      `\t\tspan.recordException(error${AS_ERROR});`,
      '\t\tspan.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });',
      '\t\tthrow error;',
      '\t} finally {',
      '\t\tspan.end();',
      '\t}',
      '});',
    ],
    imports: TS_API('ROOT_CONTEXT', 'SpanKind', 'SpanStatusCode', 'propagation'),
    usesTracer: true,
  },
  {
    pattern: 'grpc-client',
    languages: ['typescript', 'javascript'],
    title: 'gRPC client: send the trace in metadata',
    library: '@grpc/grpc-js (or @opentelemetry/instrumentation-grpc)',
    description: 'Injects the current context into the call metadata.',
    body: [
      'const metadata = new Metadata();',
      'propagation.inject(context.active(), metadata, { set: (m, k, v) => m.set(k, v) });',
      '${1:client}.${2:method}(${3:request}, metadata, (err, response) => {',
      '\t${4}',
      '});',
    ],
    imports: {
      kind: 'ts',
      modules: [
        { module: '@opentelemetry/api', names: ['context', 'propagation'] },
        { module: '@grpc/grpc-js', names: ['Metadata'] },
      ],
    },
    usesTracer: false,
  },
  {
    pattern: 'grpc-server',
    languages: ['typescript', 'javascript'],
    title: "gRPC server: continue the caller's trace",
    library: '@grpc/grpc-js (or @opentelemetry/instrumentation-grpc)',
    description:
      'Extracts the context from the call metadata; the SERVER span is a child of the client span.',
    body: [
      'const parent = propagation.extract(ROOT_CONTEXT, ${1:call}.metadata, {',
      '\tkeys: (m) => Object.keys(m.getMap()),',
      '\tget: (m, k) => m.get(k).map(String),',
      '});',
      "tracer.startActiveSpan('${2:method}', { kind: SpanKind.SERVER }, parent, (span) => {",
      '\ttry {',
      '\t\t${3}',
      '\t} finally {',
      '\t\tspan.end();',
      '\t}',
      '});',
    ],
    imports: TS_API('ROOT_CONTEXT', 'SpanKind', 'propagation'),
    usesTracer: true,
  },
  {
    pattern: 'http-client',
    languages: ['typescript', 'javascript'],
    title: 'HTTP client: send the trace in headers',
    library: 'fetch (or @opentelemetry/instrumentation-undici / -http)',
    description: 'Injects the current context into the request headers (traceparent).',
    body: [
      "const headers = { 'content-type': 'application/json' };",
      'propagation.inject(context.active(), headers);',
      "const ${1:response} = await fetch(${2:url}, { method: 'POST', headers, body: JSON.stringify(${3:payload}) });",
    ],
    imports: TS_API('context', 'propagation'),
    usesTracer: false,
  },
  {
    pattern: 'http-server',
    languages: ['typescript', 'javascript'],
    title: "HTTP handler: continue the caller's trace",
    library: 'node:http or any framework with req.headers (or @opentelemetry/instrumentation-http)',
    description:
      'Extracts the context from the request headers; the SERVER span is a child of the client span.',
    body: [
      'const parent = propagation.extract(ROOT_CONTEXT, ${1:req}.headers);',
      "tracer.startActiveSpan('${2:handle}', { kind: SpanKind.SERVER }, parent, (span) => {",
      '\ttry {',
      '\t\t${3}',
      '\t} finally {',
      '\t\tspan.end();',
      '\t}',
      '});',
    ],
    imports: TS_API('ROOT_CONTEXT', 'SpanKind', 'propagation'),
    usesTracer: true,
  },
  {
    pattern: 'queue-producer',
    languages: ['typescript', 'javascript'],
    title: 'Worker / queue: post the trace with the message',
    library: 'worker_threads, BullMQ, any queue that carries JSON',
    description: 'Sends a carrier of the current context with the message.',
    body: [
      'const carrier = {};',
      'propagation.inject(context.active(), carrier);',
      '${1:worker}.postMessage({ payload: ${2:payload}, carrier });',
    ],
    imports: TS_API('context', 'propagation'),
    usesTracer: false,
  },
  {
    pattern: 'queue-consumer',
    languages: ['typescript', 'javascript'],
    title: "Worker / queue: process a message in the producer's trace",
    library: 'worker_threads, BullMQ, any queue that carries JSON',
    description:
      'The CONSUMER span is a child of the producer; the wait in the queue shows as the gap before it.',
    body: [
      'const parent = propagation.extract(ROOT_CONTEXT, ${1:message}.carrier);',
      "tracer.startActiveSpan('${2:process}', { kind: SpanKind.CONSUMER }, parent, (span) => {",
      '\ttry {',
      '\t\t${3}',
      '\t} finally {',
      '\t\tspan.end();',
      '\t}',
      '});',
    ],
    imports: TS_API('ROOT_CONTEXT', 'SpanKind', 'propagation'),
    usesTracer: true,
  },
  // ---- Go ----
  {
    pattern: 'kafka-producer',
    languages: ['go'],
    title: 'Kafka producer: inject the trace into message headers',
    library: 'github.com/segmentio/kafka-go',
    description: 'Sends the W3C trace context as Kafka headers.',
    body: [
      'carrier := propagation.MapCarrier{}',
      'otel.GetTextMapPropagator().Inject(ctx, carrier)',
      'headers := make([]kafka.Header, 0, len(carrier))',
      'for k, v := range carrier {',
      '\theaders = append(headers, kafka.Header{Key: k, Value: []byte(v)})',
      '}',
      // The error in the if's own scope: `err :=` would not compile in a function that
      // already has an err (a traced one names its error result err).
      'if err := ${1:writer}.WriteMessages(ctx, kafka.Message{Value: ${2:payload}, Headers: headers}); err != nil {',
      '\t${3:return err}',
      '}',
    ],
    imports: {
      kind: 'go',
      paths: [
        'go.opentelemetry.io/otel',
        'go.opentelemetry.io/otel/propagation',
        'github.com/segmentio/kafka-go',
      ],
    },
    usesTracer: false,
  },
  {
    pattern: 'kafka-consumer',
    languages: ['go'],
    title: "Kafka consumer: continue the producer's trace",
    library: 'github.com/segmentio/kafka-go',
    description:
      'Extracts the context from the headers; the CONSUMER span is a child of the producer span.',
    body: [
      'carrier := propagation.MapCarrier{}',
      'for _, h := range ${1:msg}.Headers {',
      '\tcarrier[h.Key] = string(h.Value)',
      '}',
      'msgCtx := otel.GetTextMapPropagator().Extract(ctx, carrier)',
      'msgCtx, span := tracer.Start(msgCtx, ${1:msg}.Topic+" process", trace.WithSpanKind(trace.SpanKindConsumer))',
      '${2:handle(msgCtx, ${1:msg})}',
      'span.End()',
    ],
    imports: {
      kind: 'go',
      paths: [
        'go.opentelemetry.io/otel',
        'go.opentelemetry.io/otel/propagation',
        'go.opentelemetry.io/otel/trace',
      ],
    },
    usesTracer: true,
  },
  {
    pattern: 'grpc-client',
    languages: ['go'],
    title: 'gRPC client: trace calls with otelgrpc',
    library:
      'google.golang.org/grpc with go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc',
    description: 'The stats handler injects the context into the metadata of every call.',
    body: [
      'conn, err := grpc.NewClient(${1:addr}, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithStatsHandler(otelgrpc.NewClientHandler()))',
    ],
    imports: {
      kind: 'go',
      paths: [
        'google.golang.org/grpc',
        'google.golang.org/grpc/credentials/insecure',
        'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc',
      ],
    },
    usesTracer: false,
  },
  {
    pattern: 'grpc-server',
    languages: ['go'],
    title: "gRPC server: continue callers' traces with otelgrpc",
    library:
      'google.golang.org/grpc with go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc',
    description:
      "The stats handler extracts the caller's context and starts a SERVER span per call.",
    body: ['server := grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler()))'],
    imports: {
      kind: 'go',
      paths: [
        'google.golang.org/grpc',
        'go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc',
      ],
    },
    usesTracer: false,
  },
  {
    pattern: 'http-client',
    languages: ['go'],
    title: 'HTTP client: send the trace in headers',
    library: 'net/http (or otelhttp.NewTransport)',
    description: 'Injects the current context into the request headers (traceparent).',
    body: [
      'req, err := http.NewRequestWithContext(ctx, http.MethodPost, ${1:url}, ${2:body})',
      'if err != nil {',
      '\treturn err',
      '}',
      'otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(req.Header))',
      'resp, err := http.DefaultClient.Do(req)',
    ],
    imports: {
      kind: 'go',
      paths: ['net/http', 'go.opentelemetry.io/otel', 'go.opentelemetry.io/otel/propagation'],
    },
    usesTracer: false,
  },
  {
    pattern: 'http-server',
    languages: ['go'],
    title: "HTTP handler: continue the caller's trace",
    library: 'net/http (or otelhttp.NewHandler)',
    description:
      'Extracts the context from the request headers; the SERVER span is a child of the client span.',
    body: [
      'ctx := otel.GetTextMapPropagator().Extract(${1:r}.Context(), propagation.HeaderCarrier(${1:r}.Header))',
      'ctx, span := tracer.Start(ctx, "${2:handle}", trace.WithSpanKind(trace.SpanKindServer))',
      'defer span.End()',
    ],
    imports: {
      kind: 'go',
      paths: [
        'go.opentelemetry.io/otel',
        'go.opentelemetry.io/otel/propagation',
        'go.opentelemetry.io/otel/trace',
      ],
    },
    usesTracer: true,
  },
  {
    pattern: 'queue-producer',
    languages: ['go'],
    title: 'Channel / worker queue: send the trace with the job',
    library: 'channels, worker pools',
    description:
      'Sends a carrier of the current context with the job (add `carrier propagation.MapCarrier` to the job type).',
    body: [
      'carrier := propagation.MapCarrier{}',
      'otel.GetTextMapPropagator().Inject(ctx, carrier)',
      '${1:jobs} <- ${2:job}{payload: ${3:payload}, carrier: carrier}',
    ],
    imports: {
      kind: 'go',
      paths: ['go.opentelemetry.io/otel', 'go.opentelemetry.io/otel/propagation'],
    },
    usesTracer: false,
  },
  {
    pattern: 'queue-consumer',
    languages: ['go'],
    title: "Channel / worker queue: process a job in the producer's trace",
    library: 'channels, worker pools',
    description:
      'The CONSUMER span is a child of the producer; the wait in the queue shows as the gap before it.',
    body: [
      'for j := range ${1:jobs} {',
      '\tjobCtx := otel.GetTextMapPropagator().Extract(context.Background(), j.carrier)',
      '\tjobCtx, span := tracer.Start(jobCtx, "${2:process}", trace.WithSpanKind(trace.SpanKindConsumer))',
      '\t${3:process(jobCtx, j.payload)}',
      '\tspan.End()',
      '}',
    ],
    imports: {
      kind: 'go',
      paths: ['context', 'go.opentelemetry.io/otel', 'go.opentelemetry.io/otel/trace'],
    },
    usesTracer: true,
  },
  // ---- Java ----
  {
    pattern: 'kafka-producer',
    languages: ['java'],
    title: 'Kafka producer: inject the trace into record headers',
    library: 'org.apache.kafka:kafka-clients (or the opentelemetry-kafka-clients instrumentation)',
    description: 'Sends the W3C trace context as Kafka record headers.',
    body: [
      'ProducerRecord<String, String> record = new ProducerRecord<>(${1:topic}, ${2:key}, ${3:value});',
      'GlobalOpenTelemetry.getPropagators().getTextMapPropagator().inject(Context.current(), record.headers(),',
      '\t\t(headers, k, v) -> headers.add(k, v.getBytes(StandardCharsets.UTF_8)));',
      '${4:producer}.send(record);',
    ],
    imports: {
      kind: 'java',
      fqns: [
        ...JAVA_PROP,
        'java.nio.charset.StandardCharsets',
        'org.apache.kafka.clients.producer.ProducerRecord',
      ],
    },
    usesTracer: false,
  },
  {
    pattern: 'kafka-consumer',
    languages: ['java'],
    title: "Kafka consumer: continue the producer's trace",
    library: 'org.apache.kafka:kafka-clients',
    description:
      'Extracts the context from the record headers; the CONSUMER span is a child of the producer span.',
    body: [
      'Context parent = GlobalOpenTelemetry.getPropagators().getTextMapPropagator().extract(Context.current(), ${1:record}.headers(),',
      '\t\tnew TextMapGetter<Headers>() {',
      '\t\t\t@Override',
      '\t\t\tpublic Iterable<String> keys(Headers headers) {',
      '\t\t\t\tList<String> keys = new ArrayList<>();',
      '\t\t\t\theaders.forEach(h -> keys.add(h.key()));',
      '\t\t\t\treturn keys;',
      '\t\t\t}',
      '',
      '\t\t\t@Override',
      '\t\t\tpublic String get(Headers headers, String key) {',
      '\t\t\t\tHeader h = headers == null ? null : headers.lastHeader(key);',
      '\t\t\t\treturn h == null ? null : new String(h.value(), StandardCharsets.UTF_8);',
      '\t\t\t}',
      '\t\t});',
      'Span span = tracer().spanBuilder(${1:record}.topic() + " process").setParent(parent).setSpanKind(SpanKind.CONSUMER).startSpan();',
      'try (Scope scope = span.makeCurrent()) {',
      '\t${2:handle(${1:record});}',
      '} finally {',
      '\tspan.end();',
      '}',
    ],
    imports: {
      kind: 'java',
      fqns: [
        ...JAVA_PROP,
        'io.opentelemetry.api.trace.Span',
        'io.opentelemetry.api.trace.SpanKind',
        'io.opentelemetry.context.Scope',
        'io.opentelemetry.context.propagation.TextMapGetter',
        'java.nio.charset.StandardCharsets',
        'java.util.ArrayList',
        'java.util.List',
        'org.apache.kafka.common.header.Header',
        'org.apache.kafka.common.header.Headers',
      ],
    },
    usesTracer: true,
  },
  {
    pattern: 'grpc-client',
    languages: ['java'],
    title: 'gRPC client: trace calls with the OpenTelemetry interceptor',
    library: 'io.grpc with io.opentelemetry.instrumentation:opentelemetry-grpc-1.6',
    description: 'The client interceptor injects the context into the metadata of every call.',
    body: [
      'ManagedChannel channel = ManagedChannelBuilder.forTarget(${1:target}).usePlaintext()',
      '\t\t.intercept(GrpcTelemetry.create(GlobalOpenTelemetry.get()).createClientInterceptor())',
      '\t\t.build();',
    ],
    imports: {
      kind: 'java',
      fqns: [
        'io.opentelemetry.api.GlobalOpenTelemetry',
        'io.grpc.ManagedChannel',
        'io.grpc.ManagedChannelBuilder',
        'io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry',
      ],
    },
    usesTracer: false,
  },
  {
    pattern: 'grpc-server',
    languages: ['java'],
    title: "gRPC server: continue callers' traces with the interceptor",
    library: 'io.grpc with io.opentelemetry.instrumentation:opentelemetry-grpc-1.6',
    description:
      "The server interceptor extracts the caller's context and starts a SERVER span per call.",
    body: [
      'Server server = ServerBuilder.forPort(${1:port})',
      '\t\t.addService(${2:service})',
      '\t\t.intercept(GrpcTelemetry.create(GlobalOpenTelemetry.get()).createServerInterceptor())',
      '\t\t.build();',
    ],
    imports: {
      kind: 'java',
      fqns: [
        'io.opentelemetry.api.GlobalOpenTelemetry',
        'io.grpc.Server',
        'io.grpc.ServerBuilder',
        'io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry',
      ],
    },
    usesTracer: false,
  },
  {
    pattern: 'http-client',
    languages: ['java'],
    title: 'HTTP client: send the trace in headers',
    library: 'java.net.http.HttpClient (or opentelemetry-java-http-client)',
    description: 'Injects the current context into the request headers (traceparent).',
    body: [
      'HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(${1:url}));',
      'GlobalOpenTelemetry.getPropagators().getTextMapPropagator().inject(Context.current(), builder, HttpRequest.Builder::header);',
      'HttpResponse<String> response = ${2:client}.send(builder.build(), HttpResponse.BodyHandlers.ofString());',
    ],
    imports: {
      kind: 'java',
      fqns: [
        ...JAVA_PROP,
        'java.net.URI',
        'java.net.http.HttpRequest',
        'java.net.http.HttpResponse',
      ],
    },
    usesTracer: false,
  },
  {
    pattern: 'queue-producer',
    languages: ['java'],
    title: 'Executor / worker queue: run the task in the current trace',
    library: 'java.util.concurrent executors',
    description:
      "Context.wrap carries the current context to the worker thread; spans the task starts are children of the submitter's span.",
    body: ['${1:executor}.submit(Context.current().wrap(() -> ${2:work()}));'],
    imports: { kind: 'java', fqns: ['io.opentelemetry.context.Context'] },
    usesTracer: false,
  },
  {
    pattern: 'queue-consumer',
    languages: ['java'],
    title: 'Executor / worker queue: a CONSUMER span for the task',
    library: 'java.util.concurrent',
    description:
      'Inside the task run with Context.wrap: a CONSUMER span, child of the submitter; the queue wait shows as the gap before it.',
    body: [
      'Span span = tracer().spanBuilder("${1:process}").setSpanKind(SpanKind.CONSUMER).startSpan();',
      'try (Scope scope = span.makeCurrent()) {',
      '\t${2:work();}',
      '} finally {',
      '\tspan.end();',
      '}',
    ],
    imports: {
      kind: 'java',
      fqns: [
        'io.opentelemetry.api.trace.Span',
        'io.opentelemetry.api.trace.SpanKind',
        'io.opentelemetry.context.Scope',
      ],
    },
    usesTracer: true,
  },
];

/** The snippets for a language, in catalogue order. */
export function propagationSnippets(language: ScaffoldLanguage): PropagationSnippet[] {
  return PROPAGATION_SNIPPETS.filter((s) => s.languages.includes(language));
}

/** A body with its placeholders replaced by their defaults (nested ones too). */
export function expandPlaceholders(body: string): string {
  let out = body;
  for (let i = 0; i < 10 && /\$\{\d+(:[^{}]*)?\}|\$\d+/.test(out); i++) {
    out = out
      .replace(/\$\{\d+:([^{}]*)\}/g, '$1')
      .replace(/\$\{\d+\}/g, '')
      .replace(/\$\d+/g, '');
  }
  return out;
}

/** The body lines for a language: the TS/JS difference and the file's indentation applied. */
export function snippetLines(
  s: PropagationSnippet,
  language: ScaffoldLanguage,
  indentUnit: string,
): string[] {
  return s.body.map((l) =>
    l
      .replace(AS_ERROR, language === 'typescript' ? ' as Error' : '')
      .replace(/^\t+/, (tabs) => indentUnit.repeat(tabs.length)),
  );
}

/**
 * Inserts a propagation snippet at the start of the cursor's line, with its imports. The result
 * also carries `snippet`, the same text in snippet syntax, for an editor that inserts it as a
 * SnippetString instead of the plain edit.
 */
export async function insertPropagation(
  text: string,
  language: ScaffoldLanguage,
  fileName: string | undefined,
  cursor: number,
  pattern: PropagationPattern,
): Promise<ScaffoldResult & { snippet?: { offset: number; text: string } }> {
  const s = propagationSnippets(language).find((x) => x.pattern === pattern);
  if (!s)
    return refuse(
      'unsupported',
      `No ${pattern} snippet for ${language}: the library is not available there.`,
    );
  const at = lineStart(text, cursor);
  const indent = indentAt(text, cursor);
  const unit =
    language === 'go' ? '\t' : language === 'python' || language === 'java' ? '    ' : '  ';
  const lines = snippetLines(s, language, unit).map((l) => (l ? indent + l : l));
  const snippetText = `${lines.join('\n')}\n`;
  const plain = expandPlaceholders(snippetText);
  // Idempotent: the same code (whitespace aside) already in the file is not inserted again.
  const squash = (t: string) => t.replace(/\s+/g, ' ').trim();
  if (squash(text).includes(squash(plain))) {
    return refuse('already-instrumented', 'This snippet is already in the file.');
  }
  let imports: TextEdit[] = [];
  let hasTracer = true;
  const imp = s.imports;
  if (imp.kind === 'python') {
    imports = await pythonImportEdits(text, imp.from);
    hasTracer = (await pythonTracerName(text)) !== undefined;
  } else if (imp.kind === 'ts') {
    const isTs = language === 'typescript';
    imports = tsImportEdits(text, isTs, fileName, imp.modules);
    hasTracer = tsTracerName(text, isTs, fileName) !== undefined;
  } else if (imp.kind === 'go') {
    imports = await goImportEdits(text, imp.paths);
    hasTracer = (await goTracerName(text)) !== undefined;
  } else {
    imports = await javaImportEdits(text, imp.fqns);
    hasTracer = /\bTracer\s+tracer\s*\(/.test(text);
  }
  const messages = [{ severity: 'info' as const, text: `${s.title} (${s.library}).` }];
  if (s.usesTracer && !hasTracer) {
    messages.push({
      severity: 'info' as const,
      text: "The snippet uses the file's tracer; run Trace This Function once (or declare a tracer) so it exists.",
    });
  }
  const result = edited([...imports, { start: at, end: at, newText: plain }], messages);
  let shift = 0;
  for (const e of imports) if (e.start <= at) shift += e.newText.length - (e.end - e.start);
  return { ...result, snippet: { offset: at + shift, text: snippetText } };
}
