import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VM_STEPS } from '@luo-fleet/handover';
import { HOOK_NAMES, LIVEUPDATE_DRIVER_STEPS, OPTIONAL_HOOK_NAMES, parseAgentConfig } from './agent-config';

const example = () => JSON.parse(readFileSync(join(__dirname, '../../../../deploy/agent/agent.example.json'), 'utf8'));

const errorOf = (input: unknown) => {
  try {
    parseAgentConfig(input, 'agent.json');
  } catch (err) {
    return (err as Error).message;
  }
  return '';
};

/** The example without its Live Update driver: every step is a hook. */
const hookOnly = () => {
  const { liveupdate: _l, ...config } = example();
  config.hooks = Object.fromEntries(HOOK_NAMES.map((name) => [name, { command: `/usr/libexec/site/${name}`, args: [], timeoutMs: 60_000 }]));
  return config;
};

describe('agent config', () => {
  it('accepts the shipped example and fills defaults', () => {
    const config = parseAgentConfig(example());
    // The shipped example is a Live Update host's with the agent's own driver: the VMM's hooks (not the
    // VM steps', which only other strategies need) and the optional `vms` query.
    const isVmStep = (name: string) => (VM_STEPS as readonly string[]).includes(name);
    const vmmSteps = HOOK_NAMES.filter((name) => !(LIVEUPDATE_DRIVER_STEPS as readonly string[]).includes(name) && !isVmStep(name));
    expect(Object.keys(config.hooks).sort()).toEqual([...vmmSteps, ...OPTIONAL_HOOK_NAMES].sort());
    expect(config.liveupdate).toMatchObject({ kexecCommand: '/usr/sbin/kexec', kernelDir: '/boot' });
    const { vms: _v, ...withoutVms } = example().hooks;
    expect(parseAgentConfig({ ...example(), hooks: withoutVms }).hooks.vms).toBeUndefined();
    const { sysfsRoot: _s, listen: _l, ...rest } = example();
    const defaults = parseAgentConfig(rest);
    expect(defaults.sysfsRoot).toBe('/sys');
    expect(defaults.listen).toEqual({ host: '127.0.0.1', port: 7450 });
    expect(defaults.liveupdateDevicePath).toBe('/dev/liveupdate');
  });

  it('takes the VM steps\' hooks when given, and checks them like the others', () => {
    const config = example();
    for (const step of VM_STEPS) config.hooks[step] = { command: `/usr/libexec/luo-agent/${step}.sh`, args: [], timeoutMs: 600_000 };
    expect(Object.keys(parseAgentConfig(config).hooks).sort()).toEqual(
      [...HOOK_NAMES.filter((n) => !(LIVEUPDATE_DRIVER_STEPS as readonly string[]).includes(n)), ...OPTIONAL_HOOK_NAMES].sort(),
    );
    config.hooks.drain.command = 'drain.sh';
    expect(() => parseAgentConfig(config, 'agent.json')).toThrow(/hooks\.drain\.command: must be an absolute path/);
  });

  it('names each wrong field', () => {
    const config = example();
    config.hooks.freeze.command = 'vmmctl';
    delete config.hooks.thaw;
    config.liveupdate.vmm.restore.shell = true;
    config.listen.port = 70000;
    const error = errorOf(config);
    expect(error).toMatch(/^agent\.json: /);
    expect(error).toContain('hooks.freeze.command: must be an absolute path');
    expect(error).toContain('hooks.thaw:');
    expect(error).toContain('liveupdate.vmm.restore.shell: unknown field');
    expect(error).toContain('listen.port:');
  });

  it('needs every hook without the Live Update driver, and no hook for a step the driver does', () => {
    expect(Object.keys(parseAgentConfig(hookOnly()).hooks).sort()).toEqual([...HOOK_NAMES].sort());
    const missing = hookOnly();
    delete missing.hooks.preserve;
    expect(errorOf(missing)).toBe('agent.json: hooks.preserve: required');
    const both = example();
    both.hooks.preserve = { command: '/usr/libexec/site/preserve', args: [], timeoutMs: 1000 };
    expect(errorOf(both)).toContain('hooks.preserve: the agent does this step itself when liveupdate is configured');
  });
});
