import type { RedisClient } from '@luo-fleet/redis';
import type { FleetKeys } from '@luo-fleet/redis';
import { FleetMetrics } from './fleet-metrics';
import { FleetSnapshotReader, type FleetSnapshot } from './fleet-snapshot';

/**
 * One scrape: read the fleet from Redis (bounded by a timeout, so a hung Redis shows as
 * `luo_fleet_redis_up 0` instead of a scrape timeout), set the metrics, render them. Concurrent
 * scrapes share one render: the registry holds one set of values at a time.
 */
export class FleetExporter {
  private readonly metrics = new FleetMetrics();
  private readonly reader: FleetSnapshotReader;
  private rendering: Promise<string> | undefined;

  constructor(
    redis: RedisClient,
    keys: FleetKeys,
    private readonly readTimeoutMs: number,
  ) {
    this.reader = new FleetSnapshotReader(redis, keys);
  }

  render(): Promise<string> {
    this.rendering ??= this.renderOnce().finally(() => {
      this.rendering = undefined;
    });
    return this.rendering;
  }

  async close(): Promise<void> {
    await this.reader.close();
  }

  private async renderOnce(): Promise<string> {
    this.metrics.apply(await this.readSnapshot());
    return this.metrics.registry.metrics();
  }

  private async readSnapshot(): Promise<FleetSnapshot | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.readTimeoutMs);
    });
    try {
      return await Promise.race([this.reader.read().catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
