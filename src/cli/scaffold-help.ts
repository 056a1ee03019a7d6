/**
 * Help text of `stagelight scaffold`, apart from the command (src/cli/scaffold.ts) so that the
 * main help costs no load of the scaffolding bundle (the TypeScript compiler, tree-sitter).
 */

export const SCAFFOLD_HELP = `scaffold: the editor's instrumentation commands on a file, from the command line
  stagelight scaffold setup <file>                              Add Tracing Setup
  stagelight scaffold function <file> --function <name>|--lines <n>   Trace This Function
  stagelight scaffold selection <file> --lines <a-b> --name <span>    Wrap Selection in Span
  stagelight scaffold attributes <file> --function <name>|--lines <n> --key <key>...
                                                                Add Stage Attributes
  stagelight scaffold propagate <file> --lines <n> --kind <pattern>   Propagate Context
The language comes from the file's extension (.py, .ts/.tsx/.mts/.cts, .js/.jsx/.mjs/.cjs,
.go, .java). Prints a unified diff (for git apply or patch -p1) unless --write is given.
scaffold options:
  --write                   write the edited file instead of printing the diff
  --function <name>         the function of that name (found as the editor's Trace lens finds it)
  --lines <a>[-<b>]         1-based lines: the line of the cursor (function, attributes,
                            propagate) or the statements to wrap (selection)
  --name <span>             span name (selection: required; function: default the function's)
  --style decorator|with    Python's Trace This Function: a decorator (default) or a with block
  --key <key>               attribute to set (repeatable), e.g. gen_ai.request.model, batch_size
  --kind <pattern>          what to propagate: kafka-producer, grpc-client, http-server, ...
                            (the ones for the file's language are listed when it is missing)
  --zero-code               setup, Python: zero-code instrumentation instead (no tracing code;
                            opentelemetry-distro added to requirements.txt / pyproject.toml;
                            run it under opentelemetry-instrument)
  --logs                    setup, Python and TS/JS: the logs pipeline too (Python's logging
                            through a LoggingHandler on the root logger; the JS logs SDK)
  --service <name>          setup: service.name (default: the project's or folder's name)
  --protocol grpc|http      setup: OTLP transport (default: gRPC for Python, Go and Java,
                            HTTP for TS/JS)
  --endpoint <url>          setup: receiver base URL (default http://127.0.0.1:4317 for gRPC,
                            http://127.0.0.1:4318 for HTTP)
Exit status: 0 edited (diff printed or file written), 1 nothing changed (already instrumented,
no such function, a construct that cannot be traced, an unreadable file), 2 usage error.`;
