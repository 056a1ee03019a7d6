/**
 * Where a lens click goes: the slowest recent trace (end to end) that ran the stage, with the
 * stage's slowest span in it selected.
 */
import { collectStageSamples } from '../core/source/stage-samples.js';
import { lensSettings } from './config.js';
import type { ReceiverController } from './receiver.js';

export function openStage(
  receiver: ReceiverController,
  service: string,
  name: string,
): { traceId: string; spanId: string } | undefined {
  const engine = receiver.engine;
  if (engine === undefined) return undefined;
  const windowMs = lensSettings().windowMinutes * 60_000;
  let { slowest } = collectStageSamples(engine.store.all(), service, name, Date.now() - windowMs);
  // Nothing in the window (an idle pipeline): any trace the store still holds will do.
  slowest ??= collectStageSamples(engine.store.all(), service, name, -Infinity).slowest;
  return slowest === undefined ? undefined : { traceId: slowest.traceId, spanId: slowest.spanId };
}
