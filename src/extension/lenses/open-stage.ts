/**
 * Where a lens click goes: the slowest recent trace (end to end) that ran the stage, with the
 * stage's slowest span in it selected.
 */
import { slowestStageSpan } from '../../core/source/stage-samples.js';
import { lensSettings } from '../shared/config.js';
import type { ReceiverController } from '../receiver/receiver-controller.js';

export function openStage(
  receiver: ReceiverController,
  service: string,
  name: string,
): { traceId: string; spanId: string } | undefined {
  const engine = receiver.engine;
  if (engine === undefined) return undefined;
  const sinceMs = Date.now() - lensSettings().windowMinutes * 60_000;
  return slowestStageSpan(() => engine.store.all(), service, name, sinceMs);
}
