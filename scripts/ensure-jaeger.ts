/**
 * `node --import tsx scripts/ensure-jaeger.ts`: builds Jaeger into `.cache/jaeger` when it is
 * missing (the tests and `npm run bench:peers` call the same function themselves).
 */
import { JAEGER_VERSION, ensureJaeger, jaegerInstalled } from './lib/jaeger.js';

try {
  const had = jaegerInstalled();
  const started = Date.now();
  ensureJaeger();
  const took = had ? '' : ` in ${Math.round((Date.now() - started) / 1000)} s`;
  console.log(`jaeger ${JAEGER_VERSION} ${had ? 'already built' : `built${took}`}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
