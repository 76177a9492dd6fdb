import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type IORedis from 'ioredis';
import { type FleetKeys, unlinkMatching } from '@luo-fleet/redis';
import type { Rollout } from '@luo-fleet/rollout';
import type { RecordingJob } from '../support/metrics-record-handovers';

export { TEST_REDIS_URL as REDIS_URL } from '../support/redis-namespace';
/** LUO_FLEET_DIST lets a run use a private build while others rebuild the shared dist/. */
const DIST = process.env.LUO_FLEET_DIST ?? resolve(__dirname, '../../dist');
export const RECORDER = resolve(DIST, 'test/support/metrics-record-handovers.js');

export function testPrefix(): string {
  return `luo-test-${randomBytes(6).toString('hex')}`;
}

export function recorderBuilt(): void {
  if (!existsSync(RECORDER)) throw new Error(`${RECORDER} missing: run \`npm run build\` first (npm test does)`);
}

/** Runs the recorder in its own node process, as a separate worker would be. */
export function recordInChildProcess(job: RecordingJob): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [RECORDER, JSON.stringify(job)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`recorder exited ${code}: ${stderr}`))));
  });
}

/** Stores a minimal rollout record, as the planner would, and marks it active. */
export async function storeActiveRollout(redis: IORedis, keys: FleetKeys, id: string, limits: { maxConcurrent: number; maxFailures: number }): Promise<void> {
  const rollout = {
    id,
    createdAt: Date.now(),
    createdBy: 'test',
    hostCount: 10,
    limits: { ...limits, batches: [10] },
    status: 'running',
    batch: 0,
  } as unknown as Rollout;
  await redis.set(keys.rollout(id), JSON.stringify(rollout));
  await redis.sadd(keys.activeRollouts(), id);
}

/** BullMQ keys are `{prefix}:...`, ours `prefix:...`. */
export async function deleteKeys(redis: IORedis, prefix: string): Promise<void> {
  await unlinkMatching(redis, [`${prefix}:*`, `{${prefix}}:*`]);
}
