import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AuditLog, isAuditCursor, type AuditEntry } from './audit-log';
import { z } from 'zod';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { RefusalLog, type RefusalEntry } from './refusal-log';

const auditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.string().refine(isAuditCursor, 'must be an audit entry id such as 1718000000000-0').optional(),
});

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(
    @Inject(AuditLog) private readonly log: AuditLog,
    @Inject(RefusalLog) private readonly refusals: RefusalLog,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Mutating calls of authorized callers, newest first (whatever their outcome)' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  @ApiQuery({ name: 'before', required: false, description: 'Entry id to page back from (exclusive): the nextBefore of the previous page' })
  async list(@Query(new ZodValidationPipe(auditQuery)) query: z.output<typeof auditQuery>): Promise<{ entries: AuditEntry[]; nextBefore: string | null }> {
    const entries = await this.log.list(query);
    return { entries, nextBefore: entries.length === query.limit ? entries[entries.length - 1].id : null };
  }

  @Get('refusals')
  @ApiOperation({
    summary: 'Requests refused before any handler ran (no or a wrong token, a role too small, rate-limited, no such route), newest first',
    description:
      'Kept apart from the audit log so that refusals cannot push authorized calls out of it. Written at most 20 a second per planner; ' +
      '`suppressed` on an entry counts those left out before it, and `totals` counts every refusal by reason.',
  })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  @ApiQuery({ name: 'before', required: false, description: 'Entry id to page back from (exclusive): the nextBefore of the previous page' })
  async listRefusals(
    @Query(new ZodValidationPipe(auditQuery)) query: z.output<typeof auditQuery>,
  ): Promise<{ totals: Record<string, number>; entries: RefusalEntry[]; nextBefore: string | null }> {
    const [totals, entries] = await Promise.all([this.refusals.totals(), this.refusals.list(query)]);
    return { totals, entries, nextBefore: entries.length === query.limit ? entries[entries.length - 1].id : null };
  }
}
