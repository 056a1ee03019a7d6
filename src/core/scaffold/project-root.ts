/**
 * The project a file belongs to, on the real folder tree: the nearest folder with a manifest of
 * the file's language, and that folder's files as `detectProject` (project.ts) reads them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProjectFiles } from './project.js';
import type { ScaffoldLanguage } from './types.js';

/** Files that mark a project root, per language (lockfiles alone count too). */
export function isProjectMarker(language: ScaffoldLanguage, fileName: string): boolean {
  switch (language) {
    case 'python':
      return (
        /^(pyproject\.toml|poetry\.lock|uv\.lock|pdm\.lock|Pipfile|setup\.py|setup\.cfg)$/.test(
          fileName,
        ) || /^requirements.*\.txt$/.test(fileName)
      );
    case 'typescript':
    case 'javascript':
      return fileName === 'package.json';
    case 'go':
      return fileName === 'go.mod';
    case 'java':
      return /^(pom\.xml|(build|settings)\.gradle(\.kts)?)$/.test(fileName);
  }
}

/**
 * The project root of a file: the nearest folder, from the file's own up to `stopDir` (the
 * workspace folder, inclusive), that holds a marker for the language. None found: `stopDir`,
 * or the file's folder when the file is outside any workspace folder.
 */
export function findProjectRoot(
  language: ScaffoldLanguage,
  filePath: string,
  stopDir: string | undefined,
  listDir: (dir: string) => readonly string[] = safeReadDir,
): string {
  const start = path.dirname(filePath);
  const stop = stopDir === undefined ? undefined : path.resolve(stopDir);
  const inside =
    stop !== undefined &&
    (start === stop || start.startsWith(stop.endsWith(path.sep) ? stop : stop + path.sep));
  let dir = start;
  while (true) {
    if (listDir(dir).some((f) => isProjectMarker(language, f))) return dir;
    if (!inside || dir === stop) break;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return inside && stop !== undefined ? stop : start;
}

/** File names of a folder, or none when it cannot be read. */
export function safeReadDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** The root's file names and a reader for its manifests, as `detectProject` wants them. */
export function projectFiles(root: string | undefined): ProjectFiles {
  if (root === undefined) return { files: [], read: () => undefined };
  const files = safeReadDir(root);
  return {
    files,
    read: (name) => {
      if (!files.includes(name)) return undefined;
      try {
        return fs.readFileSync(path.join(root, name), 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}
