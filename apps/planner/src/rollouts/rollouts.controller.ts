import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { RedisClient } from '@luo-fleet/redis';
import { createRollout, type RolloutCreationDeps } from './rollout-creation';
import type { RolloutAction } from '@luo-fleet/rollout';
import { RolloutStore, type RolloutView } from '@luo-fleet/store';
import type { ApiRequest, ApiResponse as Response } from '../auth/api-request';
import { Requires } from '../auth/access.decorators';
import { InvalidInput } from '../http/api-error';
import { jsonSchemaOf } from '../http/openapi';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { PLANNER_REDIS } from '../redis.module';
import { bodyHash, IdempotencyStore } from './idempotency';
import { pageHosts, type HostPage } from './host-pages';
import { newestEvents, type RolloutEvent } from './rollout-events';
import { ActionNotApplicable, IdempotencyConflict, RolloutNotFound } from './rollout-errors';
import {
  IDEMPOTENCY_KEY,
  rolloutEventsQuery,
  rolloutHostsQuery,
  rolloutIdSchema,
  rolloutListQuery,
  rolloutRequestSchema,
  specOf,
  type RolloutRequest,
} from './rollout-schemas';
import { ROLLOUT_CREATION_DEPS } from './rollout-providers';

const requestSchema = rolloutRequestSchema();
const idPipe = new ZodValidationPipe(rolloutIdSchema);

@ApiTags('rollouts')
@ApiBearerAuth()
@Controller('v1/rollouts')
export class RolloutsController {
  constructor(
    @Inject(ROLLOUT_CREATION_DEPS) private readonly deps: RolloutCreationDeps,
    @Inject(RolloutStore) private readonly rollouts: RolloutStore,
    @Inject(IdempotencyStore) private readonly idempotency: IdempotencyStore,
    @Inject(PLANNER_REDIS) private readonly redis: RedisClient,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Open a maintenance window: plan the selected hosts and schedule their Live Update',
    description:
      'Times are ISO-8601 with a zone or epoch ms. Defaults: startAt now, durationMinutes 240, cutoffAt endAt minus 10% of the window, ' +
      'maxConcurrent 10%, maxFailures 5%, canary batches [1, "5%"]. A quantity is a count or "N%" (1-100) of the eligible hosts. ' +
      'dryRun: 200 with the plan and predicted schedule, nothing stored. A repeat with the same Idempotency-Key gets the first answer.',
  })
  @ApiBody({ schema: jsonSchemaOf(requestSchema) })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '1-200 printable characters; answers are kept 24 h (dry runs are not stored)' })
  @ApiResponse({ status: 201, description: '{ dryRun: false, rollout, plan }: stored and scheduled' })
  @ApiResponse({ status: 200, description: '{ dryRun: true, rollout, plan }: a dry run, nothing stored' })
  @ApiResponse({ status: 409, description: 'the Idempotency-Key was used with another body, or its first request is still running' })
  async create(
    @Body(new ZodValidationPipe(requestSchema)) request: RolloutRequest,
    @Headers('idempotency-key') key: string | undefined,
    @Req() req: ApiRequest,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new InvalidInput([{ field: 'Idempotency-Key', problem: 'must be 1-200 printable ASCII characters' }]);
    }
    // A dry run stores nothing, its idempotency answer included.
    const idempotent = key !== undefined && !request.dryRun;
    const hash = bodyHash(req.body);
    let owner: string | undefined;
    if (idempotent) {
      const r = await this.idempotency.reserve(key, hash);
      if (r.kind === 'mismatch') throw new IdempotencyConflict('was already used with a different request body');
      if (r.kind === 'in-progress') throw new IdempotencyConflict('a request with this key is still being processed; retry shortly');
      if (r.kind === 'replay') {
        const body = r.answer.body as { rollout?: { id?: string } };
        if (body.rollout?.id) req.auditTarget = { rollout: body.rollout.id, replay: 1 };
        res.status(r.answer.status);
        res.setHeader('Idempotent-Replayed', 'true');
        return r.answer.body;
      }
      owner = r.owner;
    }
    let answer: { dryRun: boolean; rollout: unknown; plan: unknown };
    try {
      const created = await createRollout(this.deps, specOf(request), { createdBy: req.principal?.name ?? 'unknown', seed: request.seed });
      answer = { dryRun: request.dryRun, rollout: created.rollout, plan: created.plan };
      req.auditTarget = request.dryRun ? { rollout: created.rollout.id, dryRun: 1 } : { rollout: created.rollout.id };
    } catch (err) {
      if (owner !== undefined) await this.idempotency.release(key!, owner).catch(() => undefined);
      throw err;
    }
    const status = request.dryRun ? 200 : 201;
    if (owner !== undefined) await this.idempotency.complete(key!, owner, hash, { status, body: answer });
    res.status(status);
    return answer;
  }

  @Get()
  @ApiOperation({ summary: 'Rollouts, newest first' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } })
  async list(@Query(new ZodValidationPipe(rolloutListQuery)) query: { limit: number }): Promise<{ rollouts: RolloutView[] }> {
    return { rollouts: await this.rollouts.list(query.limit) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One rollout: spec, resolved limits, status, in-flight and failure counts, hosts by state' })
  @ApiParam({ name: 'id' })
  async get(@Param('id', idPipe) id: string): Promise<RolloutView> {
    const view = await this.rollouts.get(id);
    if (view === null) throw new RolloutNotFound(id);
    return view;
  }

  @Get(':id/hosts')
  @ApiOperation({ summary: "The rollout's hosts with their state and result, a page at a time" })
  @ApiParam({ name: 'id' })
  @ApiQuery({ name: 'state', required: false, description: 'only hosts in this state (pending, queued, a phase such as preserve, or an outcome such as failed)' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  async hosts(
    @Param('id', idPipe) id: string,
    @Query(new ZodValidationPipe(rolloutHostsQuery)) query: { state?: string; cursor?: string; limit: number },
  ): Promise<HostPage> {
    if (!(await this.rollouts.exists(id))) throw new RolloutNotFound(id);
    return pageHosts(this.rollouts, id, query);
  }

  @Get(':id/events')
  @ApiOperation({ summary: "The rollout's newest journal events (phase starts and ends, outcomes), newest first" })
  @ApiParam({ name: 'id' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  async events(
    @Param('id', idPipe) id: string,
    @Query(new ZodValidationPipe(rolloutEventsQuery)) query: { limit: number },
  ): Promise<{ events: RolloutEvent[] }> {
    if (!(await this.rollouts.exists(id))) throw new RolloutNotFound(id);
    return { events: await newestEvents(this.redis, this.deps.keys, id, query.limit) };
  }

  @Post(':id/pause')
  @HttpCode(200)
  @Requires('operator')
  @ApiOperation({ summary: 'Stop admitting hosts (those in flight finish)' })
  @ApiParam({ name: 'id' })
  pause(@Param('id', idPipe) id: string, @Req() req: ApiRequest) {
    return this.control(id, 'pause', req);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @Requires('operator')
  @ApiOperation({ summary: 'Admit hosts again after a pause' })
  @ApiParam({ name: 'id' })
  resume(@Param('id', idPipe) id: string, @Req() req: ApiRequest) {
    return this.control(id, 'resume', req);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Requires('operator')
  @ApiOperation({ summary: 'Start the next canary batch (status awaiting_approval)' })
  @ApiParam({ name: 'id' })
  approve(@Param('id', idPipe) id: string, @Req() req: ApiRequest) {
    return this.control(id, 'approve', req);
  }

  @Post(':id/abort')
  @HttpCode(200)
  @Requires('operator')
  @ApiOperation({ summary: 'Stop the rollout: hosts not started are cancelled, hosts before kexec are rolled back' })
  @ApiParam({ name: 'id' })
  abort(@Param('id', idPipe) id: string, @Req() req: ApiRequest) {
    return this.control(id, 'abort', req);
  }

  private async control(id: string, action: RolloutAction, req: ApiRequest): Promise<{ id: string; status: string }> {
    req.auditTarget = { rollout: id };
    const { applied, status } = await this.rollouts.control(id, action);
    if (status === '') throw new RolloutNotFound(id);
    if (!applied) throw new ActionNotApplicable(action, status);
    return { id, status };
  }
}
