/**
 * Shared types of the scaffolding commands. Every command is a pure function from a document's
 * text (plus cursor and options) to text edits and messages; the editor layer turns the edits
 * into one WorkspaceEdit, so one command is one undo step.
 */

/** Languages the scaffolding understands. `typescriptreact`/`javascriptreact` map onto these. */
export type ScaffoldLanguage = 'python' | 'typescript' | 'javascript' | 'go' | 'java';

/**
 * One replacement in the original text. Offsets are UTF-16 code units (JavaScript string
 * indices, the unit VS Code's `document.positionAt` takes). Edits of one result never overlap
 * and are sorted by `start`; inserts have `start === end`.
 */
export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

/** A line and a UTF-16 column, both zero-based, as VS Code's `Position`. */
export interface TextPosition {
  line: number;
  character: number;
}

export type MessageSeverity = 'info' | 'warning' | 'error';

/** Something to tell the user; `error` messages come with no edits. */
export interface ScaffoldMessage {
  severity: MessageSeverity;
  text: string;
}

/**
 * What a command did. `edited`: apply `edits`. `already-instrumented`: nothing to do (the second
 * run of an idempotent command). `unsupported`: the construct at the cursor cannot be
 * instrumented correctly (a lambda, a generator); `not-found`: nothing to act on at the cursor.
 */
export type ScaffoldStatus = 'edited' | 'already-instrumented' | 'unsupported' | 'not-found';

export interface ScaffoldResult {
  status: ScaffoldStatus;
  edits: TextEdit[];
  messages: ScaffoldMessage[];
  /** Offset in the *edited* text of the line that starts the new span, for the latency lens. */
  spanLineOffset?: number;
}

/** The document a command works on. */
export interface ScaffoldDocument {
  text: string;
  language: ScaffoldLanguage;
  /** Used for the span name of module-level code and for JS module flavour; optional. */
  fileName?: string;
}

/** A selection or cursor (start === end), UTF-16 offsets. */
export interface OffsetRange {
  start: number;
  end: number;
}

/** OTLP transport for the generated exporter. */
export type OtlpProtocol = 'grpc' | 'http';
