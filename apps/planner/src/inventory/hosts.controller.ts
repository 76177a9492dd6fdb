import { Body, ConflictException, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HostNotFoundError, InventoryStore, RolloutStore, type HostPage, type InventoryHost, type InventoryHostInput, type InventoryHostSummary } from '@luo-fleet/store';
import { z } from 'zod';
import type { ApiRequest, ApiResponse as Response } from '../auth/api-request';
import { Requires } from '../auth/access.decorators';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { LargeBody } from '../transport/json-body.interceptor';
import { withAgentTopologies } from './agent-registration';
import { AgentTopologySource } from './agent-topology-source';
import { hostBatchDoc, hostBatchSchema, hostInputDoc, hostIdSchema, hostInputSchema, hostListQuery, MAX_BATCH, type HostInputBody } from './host-schemas';

function summaryOf(host: InventoryHostInput, registeredAt: string): InventoryHostSummary {
  return { id: host.id, labels: host.labels, driver: host.driver, registeredAt, devices: host.topology?.devices.length ?? null, vms: host.vms?.length ?? 0 };
}

const AGENT_ERRORS = 'An agent-backed host sent without `topology` gets its agent\'s (GET /v1/topology, and GET /v1/vms unless `vms` is sent; signed with the planner\'s AGENT_SECRETS_DIR/<id>): ' +
  'no secret, a refused or malformed answer is a 400 naming driver.url; an agent that does not answer is a 502 naming driver.url. Nothing is stored then.';

@ApiTags('inventory')
@ApiBearerAuth()
@Controller('v1')
export class HostsController {
  constructor(
    @Inject(InventoryStore) private readonly inventory: InventoryStore,
    @Inject(AgentTopologySource) private readonly agents: AgentTopologySource,
    @Inject(RolloutStore) private readonly rollouts: RolloutStore,
  ) {}

  @Post('hosts')
  @ApiOperation({ summary: 'Register a host, or replace the one with the same id (idempotent)', description: AGENT_ERRORS })
  @ApiBody({ schema: hostInputDoc() })
  @ApiResponse({ status: 201, description: 'registered' })
  @ApiResponse({ status: 200, description: 'replaced an existing registration' })
  @ApiResponse({ status: 502, description: 'the agent named by driver.url did not answer; nothing stored' })
  async register(
    @Body(new ZodValidationPipe(hostInputSchema)) body: HostInputBody,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ created: boolean; host: InventoryHostSummary }> {
    const [host] = await withAgentTopologies(this.agents, [body], () => '');
    const now = new Date();
    const created = await this.inventory.put(host, now);
    res.status(created ? 201 : 200);
    return { created, host: summaryOf(host, now.toISOString()) };
  }

  // `:` is a parameter marker in Express routes, hence the escape.
  @Post('hosts\\:batch')
  @HttpCode(200)
  @LargeBody()
  @ApiOperation({ summary: `Register or replace up to ${MAX_BATCH} hosts; nothing is stored unless all are valid`, description: AGENT_ERRORS })
  @ApiBody({ schema: hostBatchDoc() })
  @ApiResponse({ status: 502, description: 'every problem was an agent that did not answer (hosts.N.driver.url); nothing stored' })
  async registerBatch(
    @Body(new ZodValidationPipe(hostBatchSchema)) batch: z.output<typeof hostBatchSchema>,
    @Req() req: ApiRequest,
  ): Promise<{ created: number; replaced: number }> {
    req.auditTarget = { hosts: batch.hosts.length };
    const hosts = await withAgentTopologies(this.agents, batch.hosts, (i) => `hosts.${i}.`);
    return this.inventory.putMany(hosts);
  }

  @Post('hosts/:id/topology\\:refresh')
  @HttpCode(200)
  @Requires('operator')
  @ApiOperation({ summary: "Read an agent-backed host's topology, VMs and luoEnabled from its agent again and store them (labels and driver stay)" })
  @ApiParam({ name: 'id' })
  @ApiResponse({ status: 200, description: '{ changed, host }: changed is whether the topology, VMs or luoEnabled differ from the stored ones' })
  @ApiResponse({ status: 409, description: 'the host is not agent-backed, or was re-registered with another driver during the refresh' })
  @ApiResponse({ status: 502, description: 'the agent did not answer (driver.url); nothing changed' })
  async refreshTopology(@Param('id', new ZodValidationPipe(hostIdSchema)) id: string): Promise<{ changed: boolean; host: InventoryHostSummary }> {
    const stored = await this.inventory.get(id);
    if (stored === null) throw new HostNotFoundError(id);
    if (stored.driver.kind !== 'agent') throw new ConflictException(`host ${id} uses the ${stored.driver.kind} driver; only agent-backed hosts have a topology to refresh`);
    const [fresh] = await withAgentTopologies(this.agents, [{ ...stored, topology: undefined, vms: undefined, luoEnabled: undefined }], () => '');
    const topology = fresh.topology!;
    const vms = fresh.vms ?? [];
    const result = await this.inventory.setTopology(id, stored.driver, topology, vms, { luoEnabled: fresh.luoEnabled });
    if (result === 'missing') throw new HostNotFoundError(id);
    if (result === 'driver-changed') throw new ConflictException(`host ${id} was re-registered with another driver during the refresh; nothing stored, retry`);
    // Both sides as stored (JSON), so fields the parser leaves undefined do not count as a change.
    const changed = JSON.stringify(stored.topology) !== JSON.stringify(topology) || JSON.stringify(stored.vms) !== JSON.stringify(vms) || stored.luoEnabled !== fresh.luoEnabled;
    return { changed, host: summaryOf({ ...stored, topology, vms }, stored.registeredAt) };
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
  @ApiOperation({ summary: 'One host with its topology and VMs' })
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
  @ApiResponse({ status: 409, description: 'an unfinished rollout has yet to update the host (named in the message); abort it or wait for the host' })
  async remove(@Param('id', new ZodValidationPipe(hostIdSchema)) id: string): Promise<void> {
    // A rollout carries each host's plan and driver, so removing the host would not stop its update.
    const rollout = await this.rollouts.rolloutUpdating(id);
    if (rollout !== null) {
      throw new ConflictException(`host ${id} is in rollout ${rollout}, which has yet to update it: abort that rollout or wait for the host's outcome, then remove it`);
    }
    if (!(await this.inventory.remove(id))) throw new HostNotFoundError(id);
  }
}
