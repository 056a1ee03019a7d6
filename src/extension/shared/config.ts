/**
 * Typed access to the `stagelight.*` settings. Every read goes through here, so the setting
 * names and their defaults are written once (and match `contributes.configuration`).
 */
import * as vscode from 'vscode';
import { parseLensStatistics, type LensStatistic } from '../../core/source/lens-text.js';

export interface ReceiverSettings {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly maxSpans: number;
  /** The receiver's memory budget in MiB (spans, indexes, analysis, statistics, forwarding). */
  readonly maxMemoryMiB: number;
  readonly startOnStartup: boolean;
  /** Upstream OTLP/HTTP endpoint to forward to; '' for none. */
  readonly forwardUrl: string;
}

export interface LensSettings {
  readonly enabled: boolean;
  readonly statistics: readonly LensStatistic[];
  readonly windowMinutes: number;
}

export type DemoDevice = 'auto' | 'cpu' | 'cuda' | 'webgpu';

function port(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : fallback;
}

export function receiverSettings(): ReceiverSettings {
  const c = vscode.workspace.getConfiguration('stagelight.receiver');
  const maxSpans = c.get<number>('maxSpans', 200_000);
  const maxMemoryMiB = c.get<number>('maxMemoryMiB', 512);
  return {
    grpcPort: port(c.get('grpcPort'), 4317),
    httpPort: port(c.get('httpPort'), 4318),
    maxSpans: Number.isInteger(maxSpans) && maxSpans >= 1000 ? maxSpans : 200_000,
    maxMemoryMiB:
      typeof maxMemoryMiB === 'number' && maxMemoryMiB >= 64 && maxMemoryMiB <= 1024 * 1024
        ? maxMemoryMiB
        : 512,
    startOnStartup: c.get<boolean>('startOnStartup', false) === true,
    forwardUrl: (c.get<string>('forwardUrl', '') ?? '').trim(),
  };
}

export function lensSettings(): LensSettings {
  const c = vscode.workspace.getConfiguration('stagelight.lenses');
  const minutes = c.get<number>('windowMinutes', 5);
  return {
    enabled: c.get<boolean>('enabled', true) !== false,
    statistics: parseLensStatistics(c.get('statistics')),
    windowMinutes: typeof minutes === 'number' && minutes > 0 && minutes <= 1440 ? minutes : 5,
  };
}

export interface BackendSettings {
  /** The Jaeger query service URL; '' when none is set. */
  readonly url: string;
  readonly timeoutMs: number;
}

export function backendSettings(): BackendSettings {
  const c = vscode.workspace.getConfiguration('stagelight.backend');
  const seconds = c.get<number>('timeoutSeconds', 15);
  return {
    url: (c.get<string>('url', '') ?? '').trim(),
    timeoutMs:
      typeof seconds === 'number' && seconds >= 1 && seconds <= 300 ? seconds * 1000 : 15_000,
  };
}

export function demoDevice(): DemoDevice {
  const d = vscode.workspace.getConfiguration('stagelight.demo').get<string>('device', 'auto');
  return d === 'cpu' || d === 'cuda' || d === 'webgpu' ? d : 'auto';
}
