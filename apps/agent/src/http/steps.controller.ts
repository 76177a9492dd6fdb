import { Body, Controller, Inject, Param, Post, Res } from '@nestjs/common';
import { AGENT_STEPS, isAgentStep, stepRequestSchema, type StepAnswer } from '@luo-fleet/handover';
import type { HostSteps } from '../steps/host-steps';
import { fieldRefusal, type FieldIssue } from './agent-errors';
import { AGENT_CONFIG, HOST_STEPS, type AgentConfig, type ReplyHandle } from './agent-options';

@Controller('v1/steps')
export class StepsController {
  constructor(
    @Inject(AGENT_CONFIG) private readonly config: AgentConfig,
    @Inject(HOST_STEPS) private readonly steps: HostSteps,
  ) {}

  /** Runs the step's configured hook once per requestId; 202 for a kexec whose reboot is under way. */
  @Post(':step')
  async run(@Param('step') step: string, @Body() body: unknown, @Res({ passthrough: true }) res: ReplyHandle): Promise<StepAnswer> {
    if (!isAgentStep(step)) {
      throw fieldRefusal(404, [{ field: 'step', problem: `unknown step ${JSON.stringify(step.slice(0, 64))}; one of ${AGENT_STEPS.join(', ')}` }]);
    }
    const parsed = stepRequestSchema.safeParse(body);
    if (!parsed.success) throw fieldRefusal(400, issuesOf(parsed.error.issues));
    if (parsed.data.hostId !== this.config.hostId) {
      throw fieldRefusal(400, [{ field: 'hostId', problem: `this agent serves ${this.config.hostId}` }]);
    }
    const outcome = await this.steps.run(step, parsed.data);
    res.status(outcome.status);
    if (outcome.repeated) res.setHeader('x-luo-repeated', 'true');
    return outcome.answer;
  }
}

function issuesOf(issues: { code: string; path: PropertyKey[]; message: string; keys?: string[] }[]): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      for (const key of issue.keys) out.push({ field: [...path, key].join('.'), problem: 'unknown field' });
    } else {
      out.push({ field: path.length ? path.join('.') : 'body', problem: issue.message });
    }
  }
  return out;
}
