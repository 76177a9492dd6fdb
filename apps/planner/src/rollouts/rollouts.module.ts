import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { RolloutsController } from './rollouts.controller';
import { rolloutProviders } from './rollout-providers';

/** Maintenance windows: create rollouts over the inventory, read their progress, pause/resume/approve/abort. */
@Module({
  imports: [InventoryModule],
  controllers: [RolloutsController],
  providers: rolloutProviders,
})
export class RolloutsModule {}
