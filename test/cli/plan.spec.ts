import { describe, expect, it } from 'vitest';
import { fixture, runCli } from './run-cli';

const FULL_BDF = /^[0-9a-f]{4,}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;

describe('luo-fleet plan', () => {
  it('--json prints one object with full lower-case BDFs', () => {
    const r = runCli(['plan', '--sysfs', fixture('sample-host'), '--json', '--devices', '3B:00.0,10000:01:00.0']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout);
    expect(out.devices.map((d: { bdf: string }) => d.bdf)).toEqual(['0000:3b:00.0', '10000:01:00.0']);
    for (const d of out.devices) {
      expect(d.bdf).toMatch(FULL_BDF);
      for (const m of d.groupMembers) expect(m).toMatch(FULL_BDF);
      expect(Object.keys(d)).toEqual(expect.arrayContaining(['bdf', 'preservable', 'reasons', 'iommuGroup', 'groupMembers']));
    }
    expect(out.summary).toMatchObject({ requested: 2, rejected: 1, preservable: 1, eligible: false });
  });

  it('plans every vfio-pci device by default', () => {
    const out = JSON.parse(runCli(['plan', '--sysfs', fixture('sample-host'), '--json']).stdout);
    expect(out.devices).toHaveLength(17);
    expect(out.profile).toBe('singleton-group');
  });

  it('prints a readable table with reason details', () => {
    const r = runCli(['plan', '--sysfs', fixture('shared-root-ports')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/0000:02:00\.0\s+rejected\s+5\s+GROUP_NOT_SINGLETON/);
    expect(r.stdout).toContain('0000:00:1c.0');
  });

  it.each([
    [['plan', '--sysfs', 'test/fixtures/does-not-exist'], /does-not-exist/],
    [['plan', '--sysfs', fixture('sample-host'), '--devices', '0000:00:20.0'], /--devices.*0000:00:20\.0/],
    [['plan', '--sysfs', fixture('sample-host'), '--profile', 'no-such-profile'], /no-such-profile/],
    [['plan', '--sysfs', 'test/fixtures'], /bus\/pci\/devices/],
    [['plan', '--no-such-flag'], /no-such-flag/],
  ])('bad input %j exits 2 with one line on stderr', (args, message) => {
    const r = runCli(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
