/**
 * The built models are cached on disk (first run builds them, later runs and every runner
 * process read them), keyed by everything that changes their bytes.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildModel, MODEL_FORMAT_VERSION, type ModelSpec } from './transformer.js';

/** `$STAGELIGHT_CACHE_DIR`, else ~/.cache/stagelight/models. */
export function defaultCacheDir(): string {
  const env = process.env.STAGELIGHT_CACHE_DIR;
  if (env !== undefined && env !== '') return path.resolve(env);
  return path.join(os.homedir(), '.cache', 'stagelight', 'models');
}

export function modelFile(cacheDir: string, spec: ModelSpec): string {
  return path.join(
    cacheDir,
    `${spec.name}-v${spec.version}-f${MODEL_FORMAT_VERSION}-w${spec.width}-l${spec.layers}-s${spec.seed}.onnx`,
  );
}

/**
 * Returns the model's ONNX bytes, building and caching them when missing. Several processes may
 * build the same model at once: each writes a private temporary file and renames it into place,
 * so a reader never sees a partial file.
 */
export function loadOrBuildModel(
  cacheDir: string,
  spec: ModelSpec,
): { bytes: Buffer; built: boolean } {
  const file = modelFile(cacheDir, spec);
  try {
    return { bytes: readFileSync(file), built: false };
  } catch {
    // Not cached yet.
  }
  const bytes = buildModel(spec);
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
  return { bytes, built: true };
}
