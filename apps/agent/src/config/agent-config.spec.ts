import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VM_STEPS } from '@luo-fleet/handover';
import { HOOK_NAMES, OPTIONAL_HOOK_NAMES, parseAgentConfig } from './agent-config';

const example = () => JSON.parse(readFileSync(join(__dirname, '../../../../deploy/agent/agent.example.json'), 'utf8'));

describe('agent config', () => {
  it('accepts the shipped example and fills defaults', () => {
    const config = parseAgentConfig(example());
    // The shipped example is a Live Update host's: every hook but the VM steps', the optional `vms` query too.
    expect(Object.keys(config.hooks).sort()).toEqual(
      [...HOOK_NAMES.filter((n) => !(VM_STEPS as readonly string[]).includes(n)), ...OPTIONAL_HOOK_NAMES].sort(),
    );
    const { vms: _v, ...required } = example().hooks;
    expect(parseAgentConfig({ ...example(), hooks: required }).hooks.vms).toBeUndefined();
    const { sysfsRoot: _s, listen: _l, ...rest } = example();
    const defaults = parseAgentConfig(rest);
    expect(defaults.sysfsRoot).toBe('/sys');
    expect(defaults.listen).toEqual({ host: '127.0.0.1', port: 7450 });
    expect(defaults.liveupdateDevicePath).toBe('/dev/liveupdate');
  });

  it('takes the VM steps\' hooks when given, and checks them like the others', () => {
    const config = example();
    for (const step of VM_STEPS) config.hooks[step] = { command: `/usr/libexec/luo-agent/${step}.sh`, args: [], timeoutMs: 600_000 };
    expect(Object.keys(parseAgentConfig(config).hooks).sort()).toEqual([...HOOK_NAMES, ...OPTIONAL_HOOK_NAMES].sort());
    config.hooks.drain.command = 'drain.sh';
    expect(() => parseAgentConfig(config, 'agent.json')).toThrow(/hooks\.drain\.command: must be an absolute path/);
  });

  it('names each wrong field', () => {
    const config = example();
    config.hooks.preserve.command = 'luoctl';
    delete config.hooks.thaw;
    config.hooks.freeze.shell = true;
    config.listen.port = 70000;
    const error = (() => {
      try {
        parseAgentConfig(config, 'agent.json');
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(error).toMatch(/^agent\.json: /);
    expect(error).toContain('hooks.preserve.command: must be an absolute path');
    expect(error).toContain('hooks.thaw:');
    expect(error).toContain('hooks.freeze.shell: unknown field');
    expect(error).toContain('listen.port:');
  });
});
