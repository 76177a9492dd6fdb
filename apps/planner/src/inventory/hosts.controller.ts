import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HostNotFoundError, InventoryStore, type HostPage, type InventoryHost, type InventoryHostSummary } from '@luo-fleet/queue';
import { z } from 'zod';
import type { ApiRequest, ApiResponse as Response } from '../auth/api-request';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { hostBatchDoc, hostBatchSchema, hostInputDoc, hostIdSchema, hostInputSchema, hostListQuery, MAX_BATCH, type HostInputBody } from './host-schemas';

function summaryOf(host: HostInputBody, registeredAt: Date): InventoryHostSummary {
  return { id: host.id, labels: host.labels, driver: host.driver, registeredAt: registeredAt.toISOString(), devices: host.topology?.devices.length ?? null };
}

@ApiTags('inventory')
@ApiBearerAuth()
@Controller('v1')
export class HostsController {
  constructor(@Inject(InventoryStore) private readonly inventory: InventoryStore) {}

  @Post('hosts')
  @ApiOperation({ summary: 'Register a host, or replace the one with the same id (idempotent)' })
  @ApiBody({ schema: hostInputDoc() })
  @ApiResponse({ status: 201, description: 'registered' })
  @ApiResponse({ status: 200, description: 'replaced an existing registration' })
  async register(
    @Body(new ZodValidationPipe(hostInputSchema)) host: HostInputBody,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ created: boolean; host: InventoryHostSummary }> {
    const now = new Date();
    const created = await this.inventory.put(host, now);
    res.status(created ? 201 : 200);
    return { created, host: summaryOf(host, now) };
  }

  // `:` is a parameter marker in Express routes, hence the escape.
  @Post('hosts\\:batch')
  @HttpCode(200)
  @ApiOperation({ summary: `Register or replace up to ${MAX_BATCH} hosts; nothing is stored unless all are valid` })
  @ApiBody({ schema: hostBatchDoc() })
  async registerBatch(
    @Body(new ZodValidationPipe(hostBatchSchema)) batch: z.output<typeof hostBatchSchema>,
    @Req() req: ApiRequest,
  ): Promise<{ created: number; replaced: number }> {
    req.auditTarget = { hosts: batch.hosts.length };
    return this.inventory.putMany(batch.hosts);
  }

  @Get('hosts')
  @ApiOperation({ summary: 'Hosts matching a label selector, in id order, a page at a time (no topologies)' })
  @ApiQuery({ name: 'selector', required: false, description: 'e.g. rack=r1,zone in (z1,z2),kind!=gpu,!maintenance' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  async list(@Query(new ZodValidationPipe(hostListQuery)) query: z.output<typeof hostListQuery>): Promise<HostPage> {
    return this.inventory.list(query.selector, { limit: query.limit, cursor: query.cursor });
  }

  @Get('hosts/:id')
  @ApiOperation({ summary: 'One host with its topology' })
  @ApiParam({ name: 'id' })
  async get(@Param('id', new ZodValidationPipe(hostIdSchema)) id: string): Promise<InventoryHost> {
    const host = await this.inventory.get(id);
    if (host === null) throw new HostNotFoundError(id);
    return host;
  }

  @Delete('hosts/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a host from the inventory' })
  @ApiParam({ name: 'id' })
  async remove(@Param('id', new ZodValidationPipe(hostIdSchema)) id: string): Promise<void> {
    if (!(await this.inventory.remove(id))) throw new HostNotFoundError(id);
  }
}
