/**
 * docs/benchmarks.md is written by several scripts, each owning the section between its
 * `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` markers; everything else in the file
 * is kept.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function docsMarkers(name: string): { start: string; end: string } {
  return { start: `<!-- bench:${name}:start -->`, end: `<!-- bench:${name}:end -->` };
}

/** Replaces (or appends) the section of `name`; `section` includes its markers. Returns the file. */
export function writeBenchSection(root: string, name: string, section: string): string {
  const { start, end } = docsMarkers(name);
  const file = path.join(root, 'docs', 'benchmarks.md');
  let text = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nResults of the scripts in `bench/`. Each section between ' +
      '`<!-- bench:NAME:start/end -->` markers is rewritten by its script.\n';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a >= 0 && b > a) text = text.slice(0, a) + section + text.slice(b + end.length);
  else text = text.trimEnd() + '\n\n' + section + '\n';
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** The machine line of a section: CPUs, memory, kernel, Node and the load at start. */
export function machine(): string {
  const cpus = os.cpus();
  return (
    `${os.availableParallelism()} CPUs (\`nproc\`), ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, ` +
    `Node ${process.version}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at start`
  );
}
