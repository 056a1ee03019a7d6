/**
 * Device selection for a model runner: the one place where CPU, CUDA and WebGPU differ.
 * `auto` tries CUDA, then WebGPU, then CPU, and keeps the reason each one was not used, so the
 * user reads "cuda: CUDA provider library not installed" rather than a silent CPU run.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Device, DeviceAttempt, DeviceRequest } from '../protocol.js';

export interface SessionOnDevice {
  readonly session: ort.InferenceSession;
  readonly device: Device;
  /** Devices tried before the one used, with the reason each failed. */
  readonly attempts: DeviceAttempt[];
}

const ORDER: Record<DeviceRequest, Device[]> = {
  auto: ['cuda', 'webgpu', 'cpu'],
  cuda: ['cuda', 'cpu'],
  webgpu: ['webgpu', 'cpu'],
  cpu: ['cpu'],
};

/** Folder of onnxruntime-node's native binding, where provider libraries must be. */
function bindingDir(): string | undefined {
  try {
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

const VULKAN_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib/x86_64-linux-gnu',
];

/** A reason not to try a device at all, found without touching the runtime (it logs loudly). */
function precheck(device: Device): string | undefined {
  const backends = ort.listSupportedBackends();
  if (device === 'cuda') {
    if (process.platform === 'darwin') return 'CUDA is not available on macOS';
    const dir = bindingDir();
    const lib =
      process.platform === 'win32'
        ? 'onnxruntime_providers_cuda.dll'
        : 'libonnxruntime_providers_cuda.so';
    const bundled = backends.find((b) => b.name === 'cuda')?.bundled ?? false;
    if (!bundled && (dir === undefined || !existsSync(path.join(dir, lib)))) {
      return 'CUDA provider library not installed (onnxruntime-node skipped its CUDA download; reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12)';
    }
  }
  if (device === 'webgpu') {
    if (!backends.some((b) => b.name === 'webgpu'))
      return 'this onnxruntime-node build has no WebGPU provider';
    if (
      process.platform === 'linux' &&
      !VULKAN_DIRS.some((d) => existsSync(path.join(d, 'libvulkan.so.1')))
    ) {
      return "libvulkan.so.1 not found (install libvulkan1 and your GPU vendor's Vulkan driver)";
    }
  }
  return undefined;
}

/** Turns the runtime's error into what a user can act on. */
function explain(device: Device, error: Error): string {
  const m = error.message;
  if (device === 'cuda' && /shared library|providers_cuda|libcudart|libcublas|libcudnn/i.test(m)) {
    return `CUDA provider or CUDA runtime libraries could not be loaded (${m.split('\n')[0]?.slice(0, 160)})`;
  }
  if (device === 'webgpu' && /adapter/i.test(m)) {
    return "no Vulkan adapter for a GPU (a GPU Vulkan driver is needed; Mesa's CPU driver is refused)";
  }
  return m.split('\n')[0]?.slice(0, 200) ?? m;
}

export function sessionOptions(device: Device): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [device],
    // One core per runner: latency per replica is then what one core gives, as the docs say.
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Errors reach us as exceptions; the runtime's own log would only duplicate them on stderr.
    logSeverityLevel: 4,
  };
}

/** Creates the session on the first device of the request's order that works. */
export async function createSessionOnDevice(
  model: Uint8Array,
  request: DeviceRequest,
): Promise<SessionOnDevice> {
  const attempts: DeviceAttempt[] = [];
  for (const device of ORDER[request]) {
    const skip = device === 'cpu' ? undefined : precheck(device);
    if (skip !== undefined) {
      attempts.push({ device, reason: skip });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(model, sessionOptions(device));
      return { session, device, attempts };
    } catch (e) {
      if (device === 'cpu') throw e;
      attempts.push({ device, reason: explain(device, e as Error) });
    }
  }
  throw new Error('no device available');
}
