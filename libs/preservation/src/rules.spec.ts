import { describe, expect, it } from 'vitest';
import { DEVICE_REASONS } from './reason';
import { activeRules, DEFAULT_PROFILE, listRuleProfiles, ruleProfile, UnknownProfileError } from './rules';

describe('rule profiles table', () => {
  it('offers the seed profile as default, the ACS-carrying one and v9', () => {
    expect(DEFAULT_PROFILE).toBe('singleton-group');
    expect(listRuleProfiles().map((p) => p.name)).toEqual(['singleton-group', 'acs-carried', 'pci-liveupdate-v9']);
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
    expect(ruleProfile('pci-liveupdate-v9').rules.map((r) => r.id)).toEqual(['not-virtfn', 'no-enable-acs-quirk', 'acs-path']);
  });

  it('cites v9 and its restriction text in every v9 rule', () => {
    const whys = ruleProfile('pci-liveupdate-v9').rules.map((r) => r.why);
    expect(whys.every((why) => why.includes('PCI liveupdate v9'))).toBe(true);
    expect(whys[0]).toContain('"The device cannot be a Virtual Function (VF)."');
    expect(whys[1]).toContain('"The device cannot require device-specific quirks to enable Access Control Services (ACS)."');  });

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
    expect((error as UnknownProfileError).known).toEqual(['singleton-group', 'acs-carried', 'pci-liveupdate-v9']);
    expect(() => activeRules('nope', true)).toThrow(/unknown rule profile "nope" \(known: singleton-group, acs-carried, pci-liveupdate-v9\)/);
  });
});
