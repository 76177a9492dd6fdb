import { describe, expect, it } from 'vitest';
import { stepRequestSchema } from '@luo-fleet/handover';
import { rolloutRequestSchema } from './rollout-schemas';

const plannerKernel = rolloutRequestSchema().shape.targetKernel;
const agentKernel = stepRequestSchema.shape.targetKernel;

describe('targetKernel', () => {
  it('is accepted by the planner exactly when an agent would accept it in a step request', () => {
    const cases = ['6.18.0-luo2', '6.8.0-45-generic', '5.15.0~rc1', 'v6+', 'a', 'A'.repeat(128), 'A'.repeat(129), '-.x', '.hidden', '-rf', '_x', '~x', '', '6.14 rc1', '../x', 'x/y', 'x\n', 'é'];
    for (const text of cases) expect(plannerKernel.safeParse(text).success, text).toBe(agentKernel.safeParse(text).success);
  });

  it('refuses a release that does not start with a letter or digit, with the rule', () => {
    for (const text of ['-.x', '.x', '-x', '+1']) {
      const parsed = plannerKernel.safeParse(text);
      expect(parsed.success, text).toBe(false);
      expect(parsed.error?.issues[0].message).toMatch(/starting with a letter or digit/);
    }
    expect(plannerKernel.safeParse('6.18.0-luo2').success).toBe(true);
  });
});
