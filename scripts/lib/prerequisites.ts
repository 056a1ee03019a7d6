/**
 * What the VS Code test layers need from the machine, and a message naming the exact Debian
 * packages to install when something is missing. `.ci/run` installs the same list as root.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** One thing the harness needs, and the Debian package that provides it. */
export interface Prerequisite {
  /** What is checked, in words ("the `rg` command"). */
  what: string;
  /** The Debian package to `apt-get install`. */
  debianPackage: string;
  present: () => boolean;
}

/** True when `name` is an executable file on PATH. */
export function onPath(name: string): boolean {
  return findOnPath(name) !== undefined;
}

/** The absolute path of an executable on PATH, if any. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * Needed to install code-server offline: its native modules (kerberos, node-pty) build with
 * node-gyp, and @vscode/ripgrep's postinstall is fed from Debian's `rg` instead of GitHub.
 */
export const codeServerInstallPrerequisites: readonly Prerequisite[] = [
  {
    what: 'the `pkg-config` command',
    debianPackage: 'pkg-config',
    present: () => onPath('pkg-config'),
  },
  {
    what: 'Kerberos headers (krb5-config, gssapi)',
    debianPackage: 'libkrb5-dev',
    present: () => onPath('krb5-config') || existsSync('/usr/include/gssapi/gssapi.h'),
  },
  { what: 'the `rg` command', debianPackage: 'ripgrep', present: () => onPath('rg') },
  {
    what: 'a C/C++ toolchain (g++, make)',
    debianPackage: 'build-essential',
    present: () => onPath('g++') && onPath('make'),
  },
  { what: 'the `python3` command', debianPackage: 'python3', present: () => onPath('python3') },
];

/** Needed to drive the workbench: a Chromium that playwright-core can launch. */
export const browserPrerequisites: readonly Prerequisite[] = [
  {
    what: 'a Chromium browser',
    debianPackage: 'chromium',
    present: () => findChromiumExecutable() !== undefined,
  },
];

/**
 * The Chromium to launch: `STAGELIGHT_CHROMIUM` when set, else Debian's `chromium`, else a
 * `chromium-browser`/`google-chrome` on PATH. Playwright's own browser download is not used
 * (its host is unreachable where this project is tested).
 */
export function findChromiumExecutable(): string | undefined {
  const fromEnv = process.env.STAGELIGHT_CHROMIUM;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    const found = findOnPath(name);
    if (found) return found;
  }
  return undefined;
}

/** Thrown when something is missing; its message names what and how to install it. */
export class MissingPrerequisiteError extends Error {
  constructor(
    readonly missing: readonly Prerequisite[],
    purpose: string,
  ) {
    const packages = [...new Set(missing.map((p) => p.debianPackage))].join(' ');
    super(
      `${purpose}: missing ${missing.map((p) => p.what).join(', ')}.\n` +
        `Install with: sudo apt-get install -y ${packages}\n` +
        '(`.ci/run` installs them in CI; on other systems install the equivalent packages.)',
    );
    this.name = 'MissingPrerequisiteError';
  }
}

/** Throws `MissingPrerequisiteError` naming every missing item of `list`. */
export function requirePrerequisites(list: readonly Prerequisite[], purpose: string): void {
  const missing = list.filter((p) => !p.present());
  if (missing.length > 0) throw new MissingPrerequisiteError(missing, purpose);
}
