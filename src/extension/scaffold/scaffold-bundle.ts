/**
 * Entry of the third extension bundle (dist/extension-scaffold.js): the scaffolding commands
 * with the TypeScript compiler and tree-sitter, about 9 MB that activation must not parse.
 * `loadScaffold` requires it on the first scaffolding command.
 */
export {
  addStageAttributesCommand,
  addTracingSetupCommand,
  propagateContextCommand,
  traceFunctionCommand,
  wrapSelectionCommand,
} from './scaffold-commands.js';
export { setTreeSitterWasmDir } from '../../core/scaffold/index.js';
