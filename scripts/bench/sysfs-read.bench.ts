import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSysfsTopology, writeSysfsTree } from '@luo-fleet/topology';
import { FIXTURES } from '../fixture-specs';

export const name = 'sysfs-read';

const READS = 200;
const TARGET_MS = 20;

/** Reads a 64-device sysfs tree (the sample host) 200 times; prints mean and p99 per read. */
export async function run(): Promise<void> {
  const spec = FIXTURES.find((f) => f.name === 'sample-host');
  if (!spec) throw new Error('sample-host fixture spec missing');
  const topology = spec.topology();
  const dir = mkdtempSync(join(tmpdir(), 'luo-bench-sysfs-'));
  try {
    writeSysfsTree(dir, topology);
    await readSysfsTopology(dir); // warm the page cache and the JIT
    const times: number[] = [];
    for (let i = 0; i < READS; i++) {
      const start = process.hrtime.bigint();
      await readSysfsTopology(dir);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    const p99 = times[Math.ceil(times.length * 0.99) - 1];
    console.log(`devices: ${topology.devices.length}, reads: ${READS}`);
    console.log(`mean ${mean.toFixed(2)} ms, p50 ${times[times.length / 2].toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
    console.log(`${p99 < TARGET_MS ? 'PASS' : 'MISS'} p99 < ${TARGET_MS} ms per 64-device read`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
