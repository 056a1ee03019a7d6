/**
 * The stage attributes `Add Stage Attributes` offers: OpenTelemetry semantic-convention names
 * where one exists, the common ML names otherwise. The waterfall groups them by prefix
 * (`model.*`, `gen_ai.*`).
 */

export type AttributeType = 'string' | 'int' | 'double' | 'bool';

/** One attribute in the quick pick. */
export interface StageAttribute {
  key: string;
  type: AttributeType;
  /** True for an OpenTelemetry semantic convention. */
  semconv: boolean;
  description: string;
}

export const STAGE_ATTRIBUTES: readonly StageAttribute[] = [
  {
    key: 'gen_ai.operation.name',
    type: 'string',
    semconv: true,
    description: 'chat, embeddings, text_completion, ...',
  },
  {
    key: 'gen_ai.provider.name',
    type: 'string',
    semconv: true,
    description: 'who serves the model (openai, aws.bedrock, ...)',
  },
  {
    key: 'gen_ai.request.model',
    type: 'string',
    semconv: true,
    description: 'the model asked for',
  },
  {
    key: 'gen_ai.response.model',
    type: 'string',
    semconv: true,
    description: 'the model that answered',
  },
  {
    key: 'gen_ai.request.max_tokens',
    type: 'int',
    semconv: true,
    description: 'token limit of the request',
  },
  {
    key: 'gen_ai.request.temperature',
    type: 'double',
    semconv: true,
    description: 'sampling temperature',
  },
  {
    key: 'gen_ai.usage.input_tokens',
    type: 'int',
    semconv: true,
    description: 'tokens in the prompt',
  },
  {
    key: 'gen_ai.usage.output_tokens',
    type: 'int',
    semconv: true,
    description: 'tokens generated',
  },
  { key: 'server.address', type: 'string', semconv: true, description: 'host of the model server' },
  { key: 'server.port', type: 'int', semconv: true, description: 'port of the model server' },
  { key: 'model.name', type: 'string', semconv: false, description: 'model run in this stage' },
  {
    key: 'model.version',
    type: 'string',
    semconv: false,
    description: 'model version or revision',
  },
  { key: 'model.device', type: 'string', semconv: false, description: 'cpu, cuda:0, webgpu, ...' },
  { key: 'batch_size', type: 'int', semconv: false, description: 'items in the batch' },
  {
    key: 'input.size',
    type: 'int',
    semconv: false,
    description: 'size of the stage input (items or bytes)',
  },
  {
    key: 'output.size',
    type: 'int',
    semconv: false,
    description: 'size of the stage output (items or bytes)',
  },
  {
    key: 'cache.hit',
    type: 'bool',
    semconv: false,
    description: 'whether the stage was served from a cache',
  },
];

/** The attribute of a key; unknown keys are strings (a custom attribute the user typed). */
export function stageAttribute(key: string): StageAttribute {
  return (
    STAGE_ATTRIBUTES.find((a) => a.key === key) ?? {
      key,
      type: 'string',
      semconv: false,
      description: 'custom attribute',
    }
  );
}

/** A name the code at the cursor can read: a parameter, a local, a `self.`/`this.` field. */
export interface ScopeName {
  /** The expression to write (`max_tokens`, `self.model_name`). */
  expr: string;
  /** The bare name matched against the attribute (`model_name`). */
  name: string;
  /** The declared type, when the code declares one (`str`, `number`, `int64`, `String`). */
  type?: string;
}

/**
 * Names that carry each attribute, normalised (lower case, no `_`), best first: `model_name`
 * before `model`, which is often an object rather than its name.
 */
const VALUE_NAMES: Readonly<Record<string, readonly string[]>> = {
  'gen_ai.operation.name': ['operationname', 'operation'],
  'gen_ai.provider.name': ['providername', 'provider'],
  'gen_ai.request.model': ['requestmodel', 'modelname', 'modelid', 'model'],
  'gen_ai.response.model': ['responsemodel'],
  'gen_ai.request.max_tokens': ['maxtokens', 'maxnewtokens'],
  'gen_ai.request.temperature': ['temperature'],
  'gen_ai.usage.input_tokens': ['inputtokens', 'prompttokens'],
  'gen_ai.usage.output_tokens': ['outputtokens', 'completiontokens'],
  'server.address': ['serveraddress', 'host', 'hostname'],
  'server.port': ['serverport', 'port'],
  'model.name': ['modelname', 'modelid', 'model'],
  'model.version': ['modelversion', 'revision'],
  'model.device': ['device'],
  batch_size: ['batchsize'],
  'input.size': ['inputsize'],
  'output.size': ['outputsize'],
  'cache.hit': ['cachehit'],
};

const normalise = (name: string): string => name.toLowerCase().replace(/[_.]/g, '');

/** Declared types that cannot hold an attribute of the type (unknown types are accepted). */
function typeFits(attr: AttributeType, declared: string | undefined): boolean {
  if (declared === undefined) return true;
  const t = declared.replace(/\s+/g, '').replace(/^\*/, '');
  const families: Record<AttributeType, RegExp> = {
    string: /^(str|string|String|Optional\[str\]|str\|None)$/,
    int: /^(int|int8|int16|int32|int64|uint|uint8|uint16|uint32|uint64|long|Long|Integer|short|number|bigint)$/,
    double: /^(float|float32|float64|double|Double|number)$/,
    bool: /^(bool|boolean|Boolean)$/,
  };
  // A type from another family (a model object, a list) is not the attribute's value.
  const known = Object.values(families).some((f) => f.test(t));
  return !known || families[attr].test(t);
}

/**
 * The expression that carries an attribute's value in the code at the cursor, if a name in
 * scope is one of the attribute's usual names (`gen_ai.request.max_tokens` <- `max_tokens` or
 * `maxTokens`), of a fitting type when declared. A custom key matches its own name
 * (`user.id` <- `user_id`). Earlier names in `names` (the innermost scope) win ties.
 */
export function attributeValue(key: string, names: readonly ScopeName[]): string | undefined {
  const attr = stageAttribute(key);
  const wanted = VALUE_NAMES[key] ?? [normalise(key)];
  for (const w of wanted) {
    const hit = names.find((n) => normalise(n.name) === w && typeFits(attr.type, n.type));
    if (hit) return hit.expr;
  }
  return undefined;
}

/** The marker of the commented-out lines left for attributes with no value in scope. */
export const TODO_MARK = 'TODO(stagelight):';

/** Spelling of the value slot in a commented-out line, per language: what to put there. */
export function todoValue(type: AttributeType, language: 'python' | 'ts' | 'go' | 'java'): string {
  const names: Record<'python' | 'ts' | 'go' | 'java', Record<AttributeType, string>> = {
    python: { string: 'str', int: 'int', double: 'float', bool: 'bool' },
    ts: { string: 'string', int: 'number', double: 'number', bool: 'boolean' },
    go: { string: 'string', int: 'int', double: 'float64', bool: 'bool' },
    java: { string: 'String', int: 'long', double: 'double', bool: 'boolean' },
  };
  return `<${names[language][type]}>`;
}
