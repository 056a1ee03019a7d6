/**
 * Entry of the second extension bundle (dist/extension-core.js): the receiver with grpc-js and
 * the statistics, loaded on first start by `loadCore` so that activation does not parse them.
 */
export { startServer } from '../../core/server.js';
export { forwardUrl } from '../../core/receiver/forwarder.js';
// The assistant tools (zod, the text builders), used by the language-model tools.
export { runTool, ToolInputError } from '../../core/assistant/tools.js';
export { ReadApiClient, ReadApiError } from '../../core/assistant/read-api-client.js';
