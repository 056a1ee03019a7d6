/**
 * Reads a git working tree's HEAD commit from its files, for the per-commit baseline when the
 * built-in git extension is not available. No `git` process: HEAD is a file naming a commit or
 * a ref, and refs are loose files or lines of `packed-refs`. Linked worktrees and submodules
 * (a `.git` file with `gitdir:`) keep their refs in the common directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The git directory of a working tree: `.git` itself, or where a `.git` file points. */
export function gitDirOf(root: string): string | undefined {
  const dotGit = path.join(root, '.git');
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dotGit);
  } catch {
    return undefined;
  }
  if (stat.isDirectory()) return dotGit;
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(read(dotGit) ?? '');
  return m === null ? undefined : path.resolve(root, m[1]!);
}

/** The commit a ref names, from the loose ref file or `packed-refs`. */
function resolveRef(gitDir: string, ref: string): string | undefined {
  const common = (() => {
    const c = read(path.join(gitDir, 'commondir'))?.trim();
    return c === undefined || c === '' ? gitDir : path.resolve(gitDir, c);
  })();
  for (const dir of common === gitDir ? [gitDir] : [gitDir, common]) {
    const loose = read(path.join(dir, ref))?.trim();
    if (loose !== undefined && SHA.test(loose)) return loose;
  }
  for (const line of (read(path.join(common, 'packed-refs')) ?? '').split('\n')) {
    const [sha, name] = line.trim().split(' ');
    if (name === ref && sha !== undefined && SHA.test(sha)) return sha;
  }
  return undefined;
}

/** The full sha of HEAD of the working tree at `root`; undefined when not a repository or unborn. */
export function readHeadCommit(root: string): string | undefined {
  const gitDir = gitDirOf(root);
  if (gitDir === undefined) return undefined;
  const head = read(path.join(gitDir, 'HEAD'))?.trim();
  if (head === undefined) return undefined;
  if (SHA.test(head)) return head; // detached
  const m = /^ref:\s*(\S+)$/.exec(head);
  return m === null ? undefined : resolveRef(gitDir, m[1]!);
}

/** The 7-character form used in labels. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
