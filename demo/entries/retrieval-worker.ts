// Process entry of the retrieval worker (bundled to dist/demo/retrieval-worker.js); config as JSON in argv[2].
import { runRetrievalWorkerProcess } from '../retrieval/retrieval-worker.js';
import type { RetrievalConfig } from '../protocol.js';

void runRetrievalWorkerProcess(JSON.parse(process.argv[2] ?? '{}') as RetrievalConfig);
