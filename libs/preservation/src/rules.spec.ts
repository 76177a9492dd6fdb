import { describe, expect, it } from 'vitest';
import { DEVICE_REASONS } from './reason';
import { activeRules, DEFAULT_PROFILE, listRuleProfiles, ruleProfile, UnknownProfileError } from './rules';

describe('rule profiles table', () => {
  it('offers the seed profile as default and the ACS-carrying one', () => {
    expect(DEFAULT_PROFILE).toBe('singleton-group');
    expect(listRuleProfiles().map((p) => p.name)).toEqual(['singleton-group', 'acs-carried']);
  });

  it('lists the seed kernel rules in its order, strict ACS last', () => {
    expect(ruleProfile('singleton-group').rules.map((r) => r.reason)).toEqual([
      'IS_VIRTFN',
      'IS_PHYSFN',
      'NO_IOMMU_GROUP',
      'GROUP_NOT_SINGLETON',
      'ACS_PATH_NOT_ENABLED',
    ]);
    expect(ruleProfile('acs-carried').rules.map((r) => r.id)).toEqual(['not-virtfn', 'no-acs-quirk', 'acs-path']);
  });

  it('keeps every profile in design 4.1 reason order, each rule explained', () => {
    for (const profile of listRuleProfiles()) {
      const order = profile.rules.map((r) => DEVICE_REASONS.indexOf(r.reason));
      expect(order.every((o) => o >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      for (const rule of profile.rules) expect(rule.why.length).toBeGreaterThan(20);
    }
  });

  it('applies strict-only rules only in strict mode', () => {
    for (const { name } of listRuleProfiles()) {
      expect(activeRules(name, false).some((r) => r.strictOnly)).toBe(false);
      expect(activeRules(name, true).some((r) => r.strictOnly)).toBe(true);
      expect(activeRules(name, true).length).toBe(ruleProfile(name).rules.length);
    }
  });

  it('names an unknown profile and the known ones', () => {
    const error = (() => {
      try {
        ruleProfile('toString');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnknownProfileError);
    expect((error as UnknownProfileError).profile).toBe('toString');
    expect((error as UnknownProfileError).known).toEqual(['singleton-group', 'acs-carried']);
    expect(() => activeRules('nope', true)).toThrow(/unknown rule profile "nope" \(known: singleton-group, acs-carried\)/);
  });
});
