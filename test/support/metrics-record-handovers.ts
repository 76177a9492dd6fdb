/**
 * Test support: records handovers through the real RedisHandoverJournal, as a worker would, from
 * its own process. Used by test/metrics and test/deploy to show that counts written by several
 * processes add up. Usage: node metrics-record-handovers.js '<RecordingJob JSON>'
 */
import type { JournalEntry } from '@luo-fleet/handover';
import { connectRedis, FleetKeys } from '@luo-fleet/redis';
import { RedisHandoverJournal } from '@luo-fleet/store';

export interface RecordedHandover {
  hostId: string;
  /** Entries without `at`; the recorder stamps them (`atOffsetMs` shifts them into the past). */
  entries: DistributiveOmit<JournalEntry, 'at'>[];
  atOffsetMs?: number;
}

export interface RecordingJob {
  redisUrl: string;
  prefix: string;
  rolloutId: string;
  handovers: RecordedHandover[];
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export async function recordHandovers(job: RecordingJob): Promise<void> {
  const redis = connectRedis({ url: job.redisUrl, prefix: job.prefix });
  const keys = new FleetKeys(job.prefix);
  try {
    await redis.sadd(keys.rolloutIndex(), job.rolloutId);
    for (const h of job.handovers) {
      const journal = new RedisHandoverJournal(redis, keys, job.rolloutId, h.hostId);
      for (const entry of h.entries) {
        await journal.append(`${job.rolloutId}:${h.hostId}`, { ...entry, at: Date.now() - (h.atOffsetMs ?? 0) } as JournalEntry);
      }
    }
  } finally {
    await redis.quit();
  }
}

if (require.main === module) {
  recordHandovers(JSON.parse(process.argv[2]) as RecordingJob).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
