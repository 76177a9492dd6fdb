import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InventoryStore } from '@luo-fleet/store';
import { Requires } from '../auth/access.decorators';
import { jsonSchemaOf } from '../http/openapi';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { planFleet, type FleetPlan } from './fleet-plan';
import { planRequestSchema, type PlanRequest } from './plan-schemas';

@ApiTags('plans')
@ApiBearerAuth()
@Controller('v1/plans')
export class PlansController {
  constructor(@Inject(InventoryStore) private readonly inventory: InventoryStore) {}

  // A plan is computed, not stored: viewers may ask for one (it is still audited, being a POST).
  @Post()
  @HttpCode(200)
  @Requires('viewer')
  @ApiOperation({ summary: "Each selected host's PreservationSet (device and VM verdicts) under a rule profile, and a fleet summary" })
  @ApiBody({ schema: jsonSchemaOf(planRequestSchema) })
  async plan(@Body(new ZodValidationPipe(planRequestSchema)) request: PlanRequest): Promise<FleetPlan> {
    return planFleet(this.inventory.scan(request.selector), {
      profile: request.profile,
      strictAcs: request.strictAcs,
      devices: request.devices,
      page: request.includeHosts ? { limit: request.limit, cursor: request.cursor } : undefined,
    });
  }
}
