/**
 * `stagelight demo`: runs the bundled demo pipeline (see demo/run-demo.ts) and prints the
 * per-stage table. Ctrl-C (or SIGTERM) stops the load and every process the demo started, and
 * still prints what was measured; a second Ctrl-C kills the workers at once.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { runDemo, DemoError, formatStageTable, parseDeviceOption } from '../../demo/run-demo.js';
import { SCENARIO_NAMES, SCENARIOS, isScenarioName } from '../../demo/scenarios.js';

export const DEMO_HELP = `demo options:
  --scenario <name>         ${SCENARIO_NAMES.join(' | ')} (default normal)
${SCENARIO_NAMES.map((n) => `                              ${n.padEnd(17)} ${SCENARIOS[n].description}`).join('\n')}
  --device <d>              auto | cpu | cuda | webgpu for every model (default auto: tries
                            cuda, then webgpu, then cpu, and says why each was not used), or
                            per stage: embedding=cpu,reranking=cpu,generation=cuda
  --requests <n>            number of requests (default: the scenario's, 10-30)
  --duration <s>            send requests for <s> seconds instead
  --rps <r>                 open-loop arrival rate (default: back-to-back clients)
  --concurrency <c>         requests in flight at most (default: the scenario's)
  --clock-skew <ms>         skew the worker processes' clocks by about this much (alternating
                            signs) to see the receiver absorb it (default 0)
  --warmup <n>              normal requests sent first and pinned as the receiver's baseline,
                            so the incident is measured against them (default 8; 0 for none;
                            cold-start has none)
  --endpoint <url>          OTLP/gRPC endpoint to export to, e.g. http://127.0.0.1:4317 (the
                            HTTP port of a Stagelight receiver works too: its gRPC endpoint is
                            used). Default: the gRPC endpoint of the Stagelight receiver found
                            at http://127.0.0.1:4318, else an embedded receiver on 4317/4318
  --api <url>               read API to build the table from when --endpoint is a Stagelight
                            receiver's gRPC port elsewhere (e.g. http://127.0.0.1:4318/api)
  --model-scale <f>         model size factor, 0 < f <= 4 (default 1: about 1-3 s per request
                            on one core); smaller runs faster with the same stage ratios
  --cache-dir <dir>         where the generated models are cached (default $STAGELIGHT_CACHE_DIR
                            or ~/.cache/stagelight/models)
  --no-tracing              run without a tracer provider (to measure tracing overhead)
  --keep-serving            keep the embedded receiver running after the run (Ctrl-C stops)
  --json                    print the result as one JSON object instead of the table
The models are small transformers with synthetic (random) weights: latency is real, outputs
are not meaningful.`;

class DemoUsageError extends Error {}

function num(
  v: string | undefined,
  name: string,
  min: number,
  integer: boolean,
): number | undefined {
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new DemoUsageError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} of at least ${min}, got "${v}"`,
    );
  }
  return n;
}

/** Runs `stagelight demo`; returns the exit code. Usage errors throw (the caller prints usage). */
export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      scenario: { type: 'string' },
      device: { type: 'string' },
      requests: { type: 'string' },
      duration: { type: 'string' },
      rps: { type: 'string' },
      concurrency: { type: 'string' },
      warmup: { type: 'string' },
      'clock-skew': { type: 'string' },
      endpoint: { type: 'string' },
      api: { type: 'string' },
      'model-scale': { type: 'string' },
      'cache-dir': { type: 'string' },
      'no-tracing': { type: 'boolean' },
      'keep-serving': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const scenario = values.scenario ?? 'normal';
  if (!isScenarioName(scenario)) {
    throw new DemoUsageError(`unknown scenario "${scenario}" (use ${SCENARIO_NAMES.join(', ')})`);
  }
  try {
    parseDeviceOption(values.device);
  } catch (e) {
    throw new DemoUsageError((e as Error).message);
  }
  const requests = num(values.requests, 'requests', 1, true);
  const durationS = num(values.duration, 'duration', 0.1, false);
  if (requests !== undefined && durationS !== undefined) {
    throw new DemoUsageError('give --requests or --duration, not both');
  }
  const modelScale = num(values['model-scale'], 'model-scale', 0.001, false);
  if (modelScale !== undefined && modelScale > 4)
    throw new DemoUsageError('--model-scale must be at most 4');
  const json = values.json ?? false;
  const log = json ? () => {} : (line: string) => console.log(line);

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    if (signals === 1) {
      console.error(`\n${sig}: stopping the demo and its processes (again to exit now)...`);
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const result = await runDemo({
      scenario,
      device: values.device,
      requests,
      durationS,
      rps: num(values.rps, 'rps', 0.01, false),
      concurrency: num(values.concurrency, 'concurrency', 1, true),
      warmup: num(values.warmup, 'warmup', 0, true),
      clockSkewMs: num(values['clock-skew'], 'clock-skew', 0, false),
      endpoint: values.endpoint,
      apiUrl: values.api,
      modelScale,
      cacheDir: values['cache-dir'] === undefined ? undefined : path.resolve(values['cache-dir']),
      tracing: !(values['no-tracing'] ?? false),
      keepReceiver: values['keep-serving'] ?? false,
      signal: controller.signal,
      log,
    });
    const ok = result.outcomes.filter((o) => o.ok).length;
    const e2e = result.outcomes.map((o) => o.durationMs).sort((a, b) => a - b);
    if (json) {
      const { receiver: _r, ...rest } = result;
      console.log(JSON.stringify(rest));
    } else {
      console.log(
        `\n${result.outcomes.length} requests (${ok} ok, ${result.outcomes.length - ok} failed) in ` +
          `${(result.wallMs / 1000).toFixed(1)} s; end-to-end p50 ${ms(e2e[Math.floor(e2e.length / 2)] ?? 0)}` +
          `${result.aborted ? ' (stopped early)' : ''}\n`,
      );
      if (result.table !== undefined) console.log(formatStageTable(result.table));
      else if (result.apiUrl === undefined && !(values['no-tracing'] ?? false)) {
        console.log(
          `(no table: ${result.endpoint} is not a Stagelight receiver whose read API is known; pass --api)`,
        );
      }
      if (result.apiUrl !== undefined)
        console.log(`\nTraces: ${result.apiUrl}/traces (OTLP/gRPC ${result.endpoint})`);
    }
    if (result.receiver !== undefined) {
      console.log('Receiver still running; Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        process.removeListener('SIGINT', onInt);
        process.removeListener('SIGTERM', onTerm);
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await result.receiver.close();
    }
    return result.aborted ? 130 : 0;
  } catch (e) {
    if (e instanceof DemoError) {
      console.error(`stagelight demo: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
  }
}

function ms(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`;
}

export { DemoUsageError };
