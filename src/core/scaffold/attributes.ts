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

/** Literal spellings of a typed zero value, per language: the placeholder the user replaces. */
export function placeholderValue(
  type: AttributeType,
  language: 'python' | 'ts' | 'go' | 'java',
): string {
  switch (type) {
    case 'string':
      return language === 'ts' ? "''" : '""';
    case 'int':
      return language === 'java' ? '0L' : '0';
    case 'double':
      return '0.0';
    case 'bool':
      return language === 'python' ? 'False' : 'false';
  }
}
