import { Module } from '@nestjs/common';
import { InventoryModule } from '../inventory/inventory.module';
import { PlansController } from './plans.controller';

/** Preservation plans over the inventory (computed on request, not stored). */
@Module({
  imports: [InventoryModule],
  controllers: [PlansController],
})
export class PlansModule {}
