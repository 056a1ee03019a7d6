/**
 * Which project the active file belongs to, and the exact command that adds the tracing
 * dependencies with that project's package manager. Pure: the caller lists the project root's
 * file names and reads the few manifests asked for.
 */
import type { OtlpProtocol, ScaffoldLanguage } from './types.js';

export type PackageManager =
  | 'pip'
  | 'poetry'
  | 'uv'
  | 'pipenv'
  | 'pdm'
  | 'npm'
  | 'pnpm'
  | 'yarn'
  | 'bun'
  | 'go'
  | 'maven'
  | 'gradle';

/** What the project root tells about the project. */
export interface ProjectInfo {
  language: ScaffoldLanguage;
  packageManager: PackageManager;
  /** The project's own name (pyproject, package.json, go.mod, pom.xml), the service.name default. */
  name?: string;
  /** The manifest the name and the manager came from, e.g. `pyproject.toml`. */
  manifest?: string;
}

/** Input for `detectProject`: the root's file names and a reader for a manifest's text. */
export interface ProjectFiles {
  /** File names (not paths) in the project root. */
  files: readonly string[];
  read(name: string): string | undefined;
}

function has(p: ProjectFiles, ...names: string[]): boolean {
  return names.some((n) => p.files.includes(n));
}

function tomlName(text: string | undefined, table: RegExp): string | undefined {
  if (!text) return undefined;
  const start = text.search(table);
  if (start < 0) return undefined;
  const rest = text.slice(start).split(/\r?\n/).slice(1);
  for (const line of rest) {
    if (/^\s*\[/.test(line)) break;
    const m = /^\s*name\s*=\s*["']([^"']+)["']/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Detects the project for a file of `language` from its root. Python: uv.lock, poetry.lock or
 * `[tool.poetry]`, Pipfile, pdm.lock, else pip (requirements*.txt or pyproject). TS/JS: the
 * lockfile picks pnpm, yarn, bun or npm. Go: go.mod. Java: Gradle build files, else Maven.
 */
export function detectProject(language: ScaffoldLanguage, p: ProjectFiles): ProjectInfo {
  switch (language) {
    case 'python': {
      const pyproject = has(p, 'pyproject.toml') ? p.read('pyproject.toml') : undefined;
      const name =
        tomlName(pyproject, /^\[project\]/m) ?? tomlName(pyproject, /^\[tool\.poetry\]/m);
      const manifest = pyproject !== undefined ? 'pyproject.toml' : undefined;
      let packageManager: PackageManager = 'pip';
      if (has(p, 'uv.lock') || /^\[tool\.uv\]/m.test(pyproject ?? '')) packageManager = 'uv';
      else if (has(p, 'poetry.lock') || /^\[tool\.poetry\]/m.test(pyproject ?? ''))
        packageManager = 'poetry';
      else if (has(p, 'pdm.lock')) packageManager = 'pdm';
      else if (has(p, 'Pipfile')) packageManager = 'pipenv';
      const reqs = p.files.find((f) => /^requirements.*\.txt$/.test(f));
      return { language, packageManager, name, manifest: manifest ?? reqs };
    }
    case 'typescript':
    case 'javascript': {
      const pkg = has(p, 'package.json') ? p.read('package.json') : undefined;
      let name: string | undefined;
      try {
        const parsed: unknown = pkg ? JSON.parse(pkg) : undefined;
        if (parsed && typeof parsed === 'object' && 'name' in parsed) {
          const n = (parsed as { name: unknown }).name;
          if (typeof n === 'string') name = n.replace(/^@[^/]+\//, '');
        }
      } catch {
        // a broken package.json: no name, the user types one
      }
      let packageManager: PackageManager = 'npm';
      if (has(p, 'pnpm-lock.yaml')) packageManager = 'pnpm';
      else if (has(p, 'yarn.lock')) packageManager = 'yarn';
      else if (has(p, 'bun.lockb', 'bun.lock')) packageManager = 'bun';
      return {
        language,
        packageManager,
        name,
        manifest: pkg !== undefined ? 'package.json' : undefined,
      };
    }
    case 'go': {
      const mod = has(p, 'go.mod') ? p.read('go.mod') : undefined;
      const m = mod ? /^module\s+(\S+)/m.exec(mod) : null;
      const name = m?.[1]?.split('/').pop();
      return {
        language,
        packageManager: 'go',
        name,
        manifest: mod !== undefined ? 'go.mod' : undefined,
      };
    }
    case 'java': {
      if (has(p, 'build.gradle', 'build.gradle.kts', 'settings.gradle', 'settings.gradle.kts')) {
        const settings = p.read('settings.gradle.kts') ?? p.read('settings.gradle');
        const m = settings ? /rootProject\.name\s*=\s*["']([^"']+)["']/.exec(settings) : null;
        const manifest = has(p, 'build.gradle.kts') ? 'build.gradle.kts' : 'build.gradle';
        return { language, packageManager: 'gradle', name: m?.[1], manifest };
      }
      const pom = has(p, 'pom.xml') ? p.read('pom.xml') : undefined;
      // The project's artifactId is the first one outside <parent>.
      const withoutParent = pom?.replace(/<parent>[\s\S]*?<\/parent>/, '');
      const m = withoutParent
        ? /<artifactId>\s*([^<\s]+)\s*<\/artifactId>/.exec(withoutParent)
        : null;
      return {
        language,
        packageManager: 'maven',
        name: m?.[1],
        manifest: pom !== undefined ? 'pom.xml' : undefined,
      };
    }
  }
}

/**
 * The packages (or Maven coordinates) the tracing setup needs; with `logs`, those of its logs
 * pipeline too (Python's are in the same packages).
 */
export function tracingDependencies(
  language: ScaffoldLanguage,
  protocol: OtlpProtocol,
  logs = false,
): string[] {
  switch (language) {
    case 'python':
      return [
        'opentelemetry-api',
        'opentelemetry-sdk',
        `opentelemetry-exporter-otlp-proto-${protocol}`,
      ];
    case 'typescript':
    case 'javascript':
      return [
        '@opentelemetry/api',
        '@opentelemetry/resources',
        '@opentelemetry/sdk-trace-base',
        '@opentelemetry/sdk-trace-node',
        `@opentelemetry/exporter-trace-otlp-${protocol}`,
        ...(logs
          ? [
              '@opentelemetry/api-logs',
              '@opentelemetry/sdk-logs',
              `@opentelemetry/exporter-logs-otlp-${protocol}`,
            ]
          : []),
      ];
    case 'go':
      return [
        'go.opentelemetry.io/otel',
        'go.opentelemetry.io/otel/sdk',
        `go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptrace${protocol}`,
      ];
    case 'java':
      return ['io.opentelemetry:opentelemetry-sdk', 'io.opentelemetry:opentelemetry-exporter-otlp'];
  }
}

/** The OpenTelemetry Java release the generated Maven/Gradle snippet pins (one BOM version). */
export const OTEL_JAVA_VERSION = '1.49.0';

/**
 * How to add the dependencies: `command` for managers that have an add command (run in a
 * terminal only when the user says so), or `manifestSnippet` to paste into pom.xml/build.gradle.
 */
export interface DependencyInstructions {
  packages: string[];
  command?: string;
  manifestSnippet?: { file: string; text: string };
}

export function installInstructions(
  project: ProjectInfo,
  protocol: OtlpProtocol,
  packages: string[] = tracingDependencies(project.language, protocol),
): DependencyInstructions {
  const list = packages.join(' ');
  switch (project.packageManager) {
    case 'pip':
      return { packages, command: `python -m pip install ${list}` };
    case 'poetry':
      return { packages, command: `poetry add ${list}` };
    case 'uv':
      return { packages, command: `uv add ${list}` };
    case 'pipenv':
      return { packages, command: `pipenv install ${list}` };
    case 'pdm':
      return { packages, command: `pdm add ${list}` };
    case 'npm':
      return { packages, command: `npm install ${list}` };
    case 'pnpm':
      return { packages, command: `pnpm add ${list}` };
    case 'yarn':
      return { packages, command: `yarn add ${list}` };
    case 'bun':
      return { packages, command: `bun add ${list}` };
    case 'go':
      return { packages, command: `go get ${list}` };
    case 'maven': {
      const deps = packages
        .map((c) => {
          const [g, a] = c.split(':');
          return `<dependency>\n  <groupId>${g}</groupId>\n  <artifactId>${a}</artifactId>\n  <version>${OTEL_JAVA_VERSION}</version>\n</dependency>`;
        })
        .join('\n');
      return { packages, manifestSnippet: { file: 'pom.xml', text: deps } };
    }
    case 'gradle': {
      const kts = project.manifest === 'build.gradle.kts';
      const deps = packages
        .map((c) =>
          kts
            ? `implementation("${c}:${OTEL_JAVA_VERSION}")`
            : `implementation '${c}:${OTEL_JAVA_VERSION}'`,
        )
        .join('\n');
      return {
        packages,
        manifestSnippet: { file: project.manifest ?? 'build.gradle', text: deps },
      };
    }
  }
}
