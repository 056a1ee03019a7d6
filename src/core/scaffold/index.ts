/**
 * The scaffolding commands, by language. Each is a pure function of a document's text, the
 * cursor or selection and options to text edits plus messages; nothing here touches the editor
 * or the file system. Python, Go and Java parse with tree-sitter (WebAssembly), TS/JS with the
 * TypeScript compiler API.
 */
import { goAddAttributes, goSetup, goTraceFunction, goWrapSelection } from './go.js';
import { javaAddAttributes, javaSetup, javaTraceFunction, javaWrapSelection } from './java.js';
import type {
  SetupOptions,
  StageAttributeOptions,
  TraceFunctionOptions,
  WrapSelectionOptions,
} from './options.js';
import {
  pythonAddAttributes,
  pythonSetup,
  pythonTraceFunction,
  pythonWrapSelection,
} from './python.js';
import {
  detectProject,
  installInstructions,
  tracingDependencies,
  type DependencyInstructions,
  type ProjectFiles,
  type ProjectInfo,
} from './project.js';
import { tsAddAttributes, tsSetup, tsTraceFunction, tsWrapSelection } from './typescript.js';
import {
  ZERO_CODE_PACKAGES,
  pythonZeroCodeSetup,
  requirementEdits,
  type ManifestEdit,
} from './python-zero-code.js';
import { refuse } from './text.js';
import type { OffsetRange, ScaffoldDocument, ScaffoldResult } from './types.js';

export type * from './types.js';
export type * from './options.js';
export {
  STAGE_ATTRIBUTES,
  stageAttribute,
  type StageAttribute,
  type AttributeType,
} from './attributes.js';
export {
  detectProject,
  installInstructions,
  tracingDependencies,
  OTEL_JAVA_VERSION,
} from './project.js';
export type {
  DependencyInstructions,
  PackageManager,
  ProjectFiles,
  ProjectInfo,
} from './project.js';
export {
  PROPAGATION_SNIPPETS,
  insertPropagation,
  propagationSnippets,
  type PropagationPattern,
  type PropagationSnippet,
} from './propagation.js';
export { SNIPPET_FILES, buildSnippets, snippetFileText } from './snippets.js';
export { applyEdits, offsetAt, positionAt } from './text.js';
export { setTreeSitterWasmDir } from './parsers.js';
export { ZERO_CODE_PACKAGES, pythonRunsZeroCode, type ManifestEdit } from './python-zero-code.js';
export { SCAFFOLD_LANGUAGE_IDS, scaffoldLanguage } from './languages.js';

/** `Add Tracing Setup` result: the edits plus how to add the dependencies. */
export interface TracingSetupResult extends ScaffoldResult {
  project: ProjectInfo;
  dependencies: DependencyInstructions;
}

/**
 * `Stagelight: Add Tracing Setup`: the provider setup in the active file, and the dependency
 * command for the project (never run here; the editor offers it to the user).
 */
export async function addTracingSetup(
  doc: ScaffoldDocument,
  project: ProjectFiles,
  opts: SetupOptions,
): Promise<TracingSetupResult> {
  const info = detectProject(doc.language, project);
  const dependencies = installInstructions(
    info,
    opts.protocol,
    tracingDependencies(doc.language, opts.protocol, opts.logs === true),
  );
  let r: ScaffoldResult;
  switch (doc.language) {
    case 'python':
      r = await pythonSetup(doc.text, opts);
      break;
    case 'typescript':
    case 'javascript':
      r = await tsSetup(doc.text, doc.language === 'typescript', doc.fileName, opts);
      break;
    case 'go':
      r = await goSetup(doc.text, opts);
      break;
    case 'java':
      r = await javaSetup(doc.text, opts);
      break;
  }
  return { ...r, project: info, dependencies };
}

/** The zero-code setup: the file's edits, plus the edits of the project's manifests. */
export interface ZeroCodeSetupResult extends TracingSetupResult {
  /** Edits of manifests in the project root (`requirements.txt`, `pyproject.toml`). */
  manifests: ManifestEdit[];
}

/**
 * `Add Tracing Setup` for Python with zero-code instrumentation (opentelemetry-distro and
 * `opentelemetry-instrument`): one marker comment in the file, the distro and the OTLP exporters
 * added to the project's requirements where it lists them in a file, and the install command.
 * The transport is left to Run with Tracing's environment (the OTLP package has both).
 */
export function addZeroCodeSetup(
  doc: ScaffoldDocument,
  project: ProjectFiles,
): ZeroCodeSetupResult {
  const info = detectProject('python', project);
  const dependencies = installInstructions(info, 'grpc', [...ZERO_CODE_PACKAGES]);
  if (doc.language !== 'python') {
    return {
      ...refuse('unsupported', 'Zero-code instrumentation is set up for Python files only.'),
      project: info,
      dependencies,
      manifests: [],
    };
  }
  const r = pythonZeroCodeSetup(doc.text);
  if (r.status !== 'edited') return { ...r, project: info, dependencies, manifests: [] };
  const { manifests, notes } = requirementEdits(project, ZERO_CODE_PACKAGES);
  const messages = [
    ...r.messages,
    ...notes.map((text) => ({ severity: 'warning' as const, text })),
  ];
  return { ...r, messages, project: info, dependencies, manifests };
}

/** `Stagelight: Trace This Function` at the cursor. */
export async function traceFunction(
  doc: ScaffoldDocument,
  at: OffsetRange,
  opts: TraceFunctionOptions = {},
): Promise<ScaffoldResult> {
  switch (doc.language) {
    case 'python':
      return pythonTraceFunction(doc.text, at, opts);
    case 'typescript':
    case 'javascript':
      return tsTraceFunction(doc.text, doc.language === 'typescript', doc.fileName, at, opts);
    case 'go':
      return goTraceFunction(doc.text, at, opts);
    case 'java':
      return javaTraceFunction(doc.text, at, opts);
  }
}

/** `Stagelight: Wrap Selection in Span`. */
export async function wrapSelectionInSpan(
  doc: ScaffoldDocument,
  selection: OffsetRange,
  opts: WrapSelectionOptions,
): Promise<ScaffoldResult> {
  switch (doc.language) {
    case 'python':
      return pythonWrapSelection(doc.text, selection, opts);
    case 'typescript':
    case 'javascript':
      return tsWrapSelection(
        doc.text,
        doc.language === 'typescript',
        doc.fileName,
        selection,
        opts,
      );
    case 'go':
      return goWrapSelection(doc.text, selection, opts);
    case 'java':
      return javaWrapSelection(doc.text, selection, opts);
  }
}

/**
 * Why `Add Stage Attributes` cannot run at the cursor (no span encloses it), before the user
 * picks any attribute; undefined when there is a span. Each language's command looks for the
 * span before it looks at the keys, so with no keys it stops right after that check.
 */
export async function stageAttributesRefusal(
  doc: ScaffoldDocument,
  at: OffsetRange,
): Promise<ScaffoldResult | undefined> {
  const r = await addStageAttributes(doc, at, { keys: [] });
  return r.status === 'not-found' || r.status === 'unsupported' ? r : undefined;
}

/**
 * `Stagelight: Add Stage Attributes` on the span enclosing the cursor. Each value is a name in
 * scope that carries it (`max_tokens`, `self.model_name`) or the one in `values`; an attribute
 * with neither gets a commented-out `TODO(stagelight):` line, so no made-up value is sent.
 */
export async function addStageAttributes(
  doc: ScaffoldDocument,
  at: OffsetRange,
  opts: StageAttributeOptions,
): Promise<ScaffoldResult> {
  switch (doc.language) {
    case 'python':
      return pythonAddAttributes(doc.text, at, opts);
    case 'typescript':
    case 'javascript':
      return tsAddAttributes(doc.text, doc.language === 'typescript', doc.fileName, at, opts);
    case 'go':
      return goAddAttributes(doc.text, at, opts);
    case 'java':
      return javaAddAttributes(doc.text, at, opts);
  }
}
