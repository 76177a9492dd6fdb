import type { Provider } from '@nestjs/common';
import type { RedisClient } from '@luo-fleet/redis';
import { RedisSimulatedHostStore } from '@luo-fleet/simulated-host';
import { FleetKeys } from '@luo-fleet/redis';
import { InventoryStore, RolloutStore } from '@luo-fleet/store';
import { type RolloutCreationDeps } from './rollout-creation';
import { PLANNER_REDIS, PLANNER_SETTINGS } from '../redis.module';
import type { PlannerSettings } from '../planner-settings';
import { CoordinatorQueue } from './coordinator-queue';
import { simulatedHostRegistration } from './simulated-host-registration';
import { IdempotencyStore } from './idempotency';

export const ROLLOUT_CREATION_DEPS = Symbol('ROLLOUT_CREATION_DEPS');

const keysOf = (settings: PlannerSettings) => new FleetKeys(settings.redis.prefix);

/**
 * The plain-TS rollout core (apps/planner/src/rollouts/rollout-creation.ts) wired to the planner's Redis and the coordinator queue.
 * The RolloutStore comes from the inventory module, which needs it too.
 */
export const rolloutProviders: Provider[] = [
  CoordinatorQueue,
  {
    provide: IdempotencyStore,
    useFactory: (redis: RedisClient, settings: PlannerSettings) => new IdempotencyStore(redis, keysOf(settings)),
    inject: [PLANNER_REDIS, PLANNER_SETTINGS],
  },
  {
    provide: ROLLOUT_CREATION_DEPS,
    useFactory: (redis: RedisClient, settings: PlannerSettings, inventory: InventoryStore, rollouts: RolloutStore, queue: CoordinatorQueue): RolloutCreationDeps => ({
      redis,
      keys: keysOf(settings),
      inventory,
      rollouts,
      // A simulated-driver host gets its simulated host when a rollout is stored; an agent needs nothing.
      hostRegistration: { simulated: simulatedHostRegistration(new RedisSimulatedHostStore(redis, settings.redis.prefix)) },
      enqueueCoordinator: (rolloutId, delayMs) => queue.enqueue(rolloutId, delayMs),
    }),
    inject: [PLANNER_REDIS, PLANNER_SETTINGS, InventoryStore, RolloutStore, CoordinatorQueue],
  },
];
