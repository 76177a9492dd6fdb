/**
 * Node flags a worker process runs with (docker-compose, the demo, the chaos run and the benchmarks
 * start it so). A worker keeps up to WORKER_CONCURRENCY handovers in flight, and every
 * young-generation collection copies what they hold alive: a semi-space twice V8's default makes
 * those collections half as frequent, for a little more resident memory.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
