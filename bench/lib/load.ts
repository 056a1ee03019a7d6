/**
 * What the receiver benchmarks share: senders that keep a fixed number of OTLP requests in
 * flight over gRPC or HTTP/protobuf, and readings of a receiver process from /proc (Linux) that
 * do not disturb it: its CPU time and its resident memory.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

export type SendOne = (body: Buffer) => Promise<void>;

export interface Sender {
  send: SendOne;
  close(): void;
}

/** Sends every body with `inFlight` requests outstanding; resolves with the elapsed ms. */
export async function sendAll(
  bodies: readonly Buffer[],
  inFlight: number,
  sendOne: SendOne,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  const lane = async () => {
    while (next < bodies.length) await sendOne(bodies[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, bodies.length) }, lane));
  return performance.now() - start;
}

const identity = (b: Buffer): Buffer => b;

/** OTLP/gRPC `Export` of pre-encoded requests, on one channel (`exportPath`: the service's). */
export function grpcSender(port: number, exportPath = EXPORT_PATH): Sender {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
  });
  const send: SendOne = (body) =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(exportPath, identity, identity, body, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  return { send, close: () => client.close() };
}

/** OTLP/HTTP protobuf POSTs of pre-encoded requests, on `inFlight` keep-alive connections. */
export function httpSender(port: number, inFlight: number, urlPath = '/v1/traces'): Sender {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const send: SendOne = (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: urlPath,
          agent,
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

/** CPU time (ms, utime + stime) of a process from /proc/<pid>/stat; NaN once it is gone. */
export function procCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** Resident memory (bytes) of a process from /proc/<pid>/status; NaN once it is gone. */
export function procRssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Waits until a process has used less than `idleMs` of CPU per `windowMs` (work it does after
 * answering, such as Stagelight's analysis, is then counted), at most `maxMs`; resolves with its
 * CPU time then.
 */
export async function cpuWhenQuiet(
  pid: number,
  { windowMs = 250, idleMs = 3, maxMs = 20_000 } = {},
): Promise<number> {
  const deadline = Date.now() + maxMs;
  let last = procCpuMs(pid);
  for (;;) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = procCpuMs(pid);
    if (now - last < idleMs || Date.now() > deadline) return now;
    last = now;
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The value at quantile `q` (0..1) of `xs`, nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
