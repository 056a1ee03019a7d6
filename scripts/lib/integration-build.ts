/**
 * Compiles the extension-host suite (`test/integration/`) to `out/integration/` and packages the
 * test-runner extension. Spec files become one CommonJS file each; npm packages (mocha, the
 * OpenTelemetry exporter) and `vscode` stay external and resolve at run time from the project's
 * node_modules and the extension host.
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { integrationOutDir, repoRoot } from './paths.js';
import { packageFolder } from './vsix.js';

const srcDir = join(repoRoot, 'test', 'integration');

/** What the build produced. */
export interface IntegrationBuild {
  /** `out/integration/index.js`: the mocha entry (also @vscode/test-electron's extensionTestsPath). */
  entry: string;
  /** The packaged test-runner extension. */
  runnerVsix: string;
}

export async function buildIntegrationSuite(): Promise<IntegrationBuild> {
  rmSync(integrationOutDir, { recursive: true, force: true });
  const specs = readdirSync(join(srcDir, 'suite')).filter((f) => f.endsWith('.test.ts'));
  const common = {
    bundle: true,
    platform: 'node' as const,
    target: 'node20',
    format: 'cjs' as const,
    sourcemap: 'inline' as const,
    packages: 'external' as const,
    logLevel: 'warning' as const,
  };
  await build({
    ...common,
    entryPoints: {
      index: join(srcDir, 'index.ts'),
      ...Object.fromEntries(
        specs.map((f) => [`suite/${f.slice(0, -3)}`, join(srcDir, 'suite', f)]),
      ),
    },
    outdir: integrationOutDir,
  });
  const runnerDir = join(integrationOutDir, 'runner-extension');
  mkdirSync(runnerDir, { recursive: true });
  await build({
    ...common,
    sourcemap: false,
    entryPoints: { extension: join(srcDir, 'runner-extension', 'extension.ts') },
    outdir: runnerDir,
  });
  copyFileSync(join(srcDir, 'runner-extension', 'package.json'), join(runnerDir, 'package.json'));
  const runnerVsix = join(integrationOutDir, 'stagelight-test-runner.vsix');
  packageFolder(runnerDir, runnerVsix);
  const entry = join(integrationOutDir, 'index.js');
  if (!existsSync(entry)) throw new Error(`build did not produce ${entry}`);
  return { entry, runnerVsix };
}
