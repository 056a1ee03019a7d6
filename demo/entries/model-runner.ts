// Process entry of a model runner (bundled to dist/demo/model-runner.js); config as JSON in argv[2].
import { runModelRunnerProcess } from '../runner/model-runner.js';
import type { RunnerConfig } from '../protocol.js';

void runModelRunnerProcess(JSON.parse(process.argv[2] ?? '{}') as RunnerConfig);
