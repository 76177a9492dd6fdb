import { Logger, Module } from '@nestjs/common';
import { InventoryStore, RolloutStore } from '@luo-fleet/store';
import { FleetKeys, type RedisClient } from '@luo-fleet/redis';
import { PLANNER_REDIS, PLANNER_SETTINGS } from '../redis.module';
import type { PlannerSettings } from '../planner-settings';
import { AgentTopologySource } from './agent-topology-source';
import { HostsController } from './hosts.controller';

/**
 * Hosts, their labels, drivers and topologies, in Redis. Exports the inventory for plans and
 * rollouts, and the rollout store, which a host's removal consults too.
 */
@Module({
  controllers: [HostsController],
  providers: [
    {
      provide: InventoryStore,
      useFactory: (redis: RedisClient, settings: PlannerSettings) => new InventoryStore(redis, settings.redis.prefix),
      inject: [PLANNER_REDIS, PLANNER_SETTINGS],
    },
    {
      provide: RolloutStore,
      useFactory: (redis: RedisClient, settings: PlannerSettings) => new RolloutStore(redis, new FleetKeys(settings.redis.prefix)),
      inject: [PLANNER_REDIS, PLANNER_SETTINGS],
    },
    {
      provide: AgentTopologySource,
      // One retry: a registration request should not hang on an agent that is down.
      useFactory: (settings: PlannerSettings) => {
        const logger = new Logger('AgentTopologySource');
        return new AgentTopologySource({
          secretsDir: settings.agents.secretsDir,
          timeoutMs: settings.agents.timeoutMs,
          tls: settings.agents.tls,
          retries: 1,
          retryDelayMs: 300,
          onProblem: (hostId, detail) => logger.warn(`topology of ${hostId}: ${detail}`),
        });
      },
      inject: [PLANNER_SETTINGS],
    },
  ],
  exports: [InventoryStore, RolloutStore],
})
export class InventoryModule {}
