import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSysfsTopology } from '@luo-fleet/topology';
import { KexecReturnedError, StepFailedError, type StepContext } from '@luo-fleet/handover';
import { AgentHostDriver, signRequest, type IdentityAnswer, type StepAnswer } from '@luo-fleet/handover';
import { AgentHost, AGENT_MAIN, runNode, sleep } from './support/agent-host';

const HOST = 'hv-api';

function stepBody(requestId: string, overrides: Record<string, unknown> = {}) {
  return {
    requestId,
    handoverId: 'r-api.hv-api',
    hostId: HOST,
    rolloutId: 'r-api',
    targetKernel: '6.18.0-luo2',
    preservationSet: { devices: [{ bdf: '0000:01:00.0', preservable: true }] },
    ...overrides,
  };
}

interface AgentReply {
  message: string;
  issues: { field: string; problem: string }[];
}

async function bodyOf(res: Response): Promise<AgentReply> {
  return (await res.json()) as AgentReply;
}

function ctxOf(requestId: string): StepContext {
  return stepBody(requestId) as unknown as StepContext;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('host agent HTTP API', () => {
  let host: AgentHost;
  let driver: AgentHostDriver;
  const ran = (requestId: string) => host.hookLog().filter((l) => l.requestId === requestId && l.what === 'start').length;

  beforeAll(async () => {
    host = await AgentHost.create({
      hostId: HOST,
      address: '127.0.0.6',
      kexecReturnWindowMs: 2_000,
      killGraceMs: 500,
      hooks: {
        freeze: { timeoutMs: 1_000 },
        // Ignores SIGTERM (and so does the sleep it runs): only the SIGKILL after the grace ends it.
        thaw: { command: '/bin/bash', args: ['-c', "trap '' TERM; echo stubborn; sleep 60"], timeoutMs: 800 },
      },
    });
    driver = new AgentHostDriver({ url: host.url, hostId: HOST, secret: host.secret, timeoutMs: 10_000, retries: 1, retryDelayMs: 200 });
  }, 90_000);

  afterAll(async () => {
    await host?.dispose();
  });

  describe('authentication: refused with 401 JSON and nothing runs', () => {
    const path = '/v1/steps/kexec_load';

    it('missing signature', async () => {
      const res = await fetch(`${host.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(stepBody('auth-missing')) });
      expect(res.status).toBe(401);
      expect((await bodyOf(res)).message).toMatch(/missing signature/);
      const identity = await fetch(`${host.url}/v1/identity`);
      expect(identity.status).toBe(401);
      expect(ran('auth-missing')).toBe(0);
    });

    it('signature made with another secret, or over another body', async () => {
      const wrong = await host.signedFetch('POST', path, stepBody('auth-wrong'), Buffer.from(randomBytes(32).toString('hex')));
      expect(wrong.status).toBe(401);
      expect((await bodyOf(wrong)).message).toMatch(/bad signature/);

      const signedFor = JSON.stringify(stepBody('auth-tampered'));
      const headers = { ...signRequest(host.secret, { method: 'POST', path, body: signedFor }), 'content-type': 'application/json' };
      const tampered = await fetch(`${host.url}${path}`, { method: 'POST', headers, body: JSON.stringify(stepBody('auth-tampered', { targetKernel: '6.1.0-evil' })) });
      expect(tampered.status).toBe(401);
      // Signed for one path, sent to another.
      const moved = await fetch(`${host.url}/v1/steps/unpreserve`, { method: 'POST', headers, body: signedFor });
      expect(moved.status).toBe(401);
      expect(ran('auth-wrong') + ran('auth-tampered')).toBe(0);
    });

    it('replayed request: the first runs, the identical second is refused', async () => {
      const body = JSON.stringify(stepBody('auth-replay'));
      const headers = { ...signRequest(host.secret, { method: 'POST', path, body }), 'content-type': 'application/json' };
      const first = await fetch(`${host.url}${path}`, { method: 'POST', headers, body });
      expect(first.status).toBe(200);
      const second = await fetch(`${host.url}${path}`, { method: 'POST', headers, body });
      expect(second.status).toBe(401);
      expect((await bodyOf(second)).message).toMatch(/replayed/);
      expect(ran('auth-replay')).toBe(1);
    });

    it('stale or future timestamps (beyond ±60 s)', async () => {
      for (const skew of [-120_000, 120_000]) {
        const requestId = `auth-stale${skew}`;
        const body = JSON.stringify(stepBody(requestId));
        const headers = { ...signRequest(host.secret, { method: 'POST', path, body }, Date.now() + skew), 'content-type': 'application/json' };
        const res = await fetch(`${host.url}${path}`, { method: 'POST', headers, body });
        expect(res.status).toBe(401);
        expect((await bodyOf(res)).message).toMatch(/stale/);
        expect(ran(requestId)).toBe(0);
      }
      // Within the window is fine.
      const body = JSON.stringify(stepBody('auth-skewed-ok'));
      const headers = { ...signRequest(host.secret, { method: 'POST', path, body }, Date.now() - 30_000), 'content-type': 'application/json' };
      expect((await fetch(`${host.url}${path}`, { method: 'POST', headers, body })).status).toBe(200);
    });
  });

  describe('bad requests: 400/404 naming the field, nothing runs', () => {
    it('a missing or malformed field is named', async () => {
      const { targetKernel: _omit, ...noKernel } = stepBody('bad-missing');
      const missing = await host.signedFetch('POST', '/v1/steps/preserve', noKernel);
      expect(missing.status).toBe(400);
      const body = await bodyOf(missing);
      expect(body.issues).toEqual([expect.objectContaining({ field: 'targetKernel' })]);
      expect(body).not.toHaveProperty('stack');

      const shell = await host.signedFetch('POST', '/v1/steps/preserve', stepBody('bad-shell', { targetKernel: '6.1; rm -rf /' }));
      expect(shell.status).toBe(400);
      expect((await bodyOf(shell)).issues[0].field).toBe('targetKernel');

      const bdf = await host.signedFetch('POST', '/v1/steps/preserve', stepBody('bad-bdf', { preservationSet: { devices: [{ bdf: '1:0.0', preservable: true }] } }));
      expect((await bodyOf(bdf)).issues[0].field).toBe('preservationSet.devices.0.bdf');

      const extra = await host.signedFetch('POST', '/v1/steps/preserve', stepBody('bad-extra', { command: '/bin/sh' }));
      expect((await bodyOf(extra)).issues).toEqual([{ field: 'command', problem: 'unknown field' }]);
      expect(ran('bad-missing') + ran('bad-shell') + ran('bad-bdf') + ran('bad-extra')).toBe(0);
    });

    it('an unknown step is 404 naming step; a request for another host is 400 naming hostId; non-JSON is 400 naming body', async () => {
      const unknown = await host.signedFetch('POST', '/v1/steps/reboot', stepBody('bad-step'));
      expect(unknown.status).toBe(404);
      expect((await bodyOf(unknown)).issues[0].field).toBe('step');

      const other = await host.signedFetch('POST', '/v1/steps/preserve', stepBody('bad-host', { hostId: 'hv-other' }));
      expect(other.status).toBe(400);
      expect((await bodyOf(other)).issues[0].field).toBe('hostId');

      const notJson = await host.signedFetch('POST', '/v1/steps/preserve', '{"requestId": ');
      expect(notJson.status).toBe(400);
      expect((await bodyOf(notJson)).issues[0].field).toBe('body');
      expect(ran('bad-step') + ran('bad-host')).toBe(0);
      expect(host.hookLog().filter((l) => l.step === 'preserve')).toEqual([]);
    });
  });

  describe('steps', () => {
    it('a repeated requestId gets the first answer and the hook runs once, also across an agent restart', async () => {
      host.fault('delay-preserve', '800');
      const [a, b] = await Promise.all([
        host.signedFetch('POST', '/v1/steps/preserve', stepBody('idem-1')),
        host.signedFetch('POST', '/v1/steps/preserve', stepBody('idem-1')),
      ]);
      const [first, second] = (await Promise.all([a.json(), b.json()])) as StepAnswer[];
      expect(first.ok).toBe(true);
      expect(second).toEqual(first);
      expect(ran('idem-1')).toBe(1);

      await host.kill();
      await host.start();
      const again = await host.signedFetch('POST', '/v1/steps/preserve', stepBody('idem-1'));
      expect(again.headers.get('x-luo-repeated')).toBe('true');
      expect(await bodyOf(again)).toEqual(first);
      expect(ran('idem-1')).toBe(1);

      const conflict = await host.signedFetch('POST', '/v1/steps/freeze', stepBody('idem-1'));
      expect(conflict.status).toBe(409);
      expect((await bodyOf(conflict)).issues[0].field).toBe('requestId');
      rmSync(host.sim('delay-preserve'));
    }, 60_000);

    it('the hook gets the request on stdin only: not in argv, not in its environment', async () => {
      const spy = join(host.dir, 'spy.sh');
      writeFileSync(spy, `#!/bin/bash\nset -euo pipefail\n{ echo "argv: $*"; env; cat; } > ${host.dir}/spy.out\n`, { mode: 0o755 });
      const config = JSON.parse(readFileSync(host.configFile, 'utf8'));
      config.hooks.finish = { command: spy, args: ['--fixed'], timeoutMs: 5_000 };
      writeFileSync(host.configFile, JSON.stringify(config));
      await host.kill();
      await host.start();
      const res = await host.signedFetch('POST', '/v1/steps/finish', stepBody('stdin-only'));
      expect(((await res.json()) as StepAnswer).ok).toBe(true);
      const seen = readFileSync(join(host.dir, 'spy.out'), 'utf8');
      const [argv, ...rest] = seen.split('\n');
      expect(argv).toBe('argv: --fixed');
      const stdin = rest.find((l) => l.startsWith('{'))!;
      expect(JSON.parse(stdin)).toEqual(stepBody('stdin-only'));
      const env = rest.filter((l) => !l.startsWith('{')).join('\n');
      expect(env).not.toContain('stdin-only');
      expect(env).toContain(`LUO_AGENT_HOST_ID=${HOST}`);
    }, 60_000);

    it('a hook that outlives its timeout is killed (its whole process group) and reported failed', async () => {
      host.fault('delay-freeze', '60000');
      const res = await host.signedFetch('POST', '/v1/steps/freeze', stepBody('slow-freeze'));
      const answer = (await res.json()) as StepAnswer;
      expect(answer).toMatchObject({ ok: false, timedOut: true });
      expect(answer.durationMs).toBeGreaterThanOrEqual(1_000);
      expect(answer.durationMs).toBeLessThan(10_000);
      expect(answer.outputTail.at(-1)).toMatch(/killed after the 1000 ms timeout/);
      rmSync(host.sim('delay-freeze'));

      // Ignoring SIGTERM does not help: SIGKILL follows after the grace.
      const started = Date.now();
      const stubborn = (await (await host.signedFetch('POST', '/v1/steps/thaw', stepBody('stubborn-thaw'))).json()) as StepAnswer;
      expect(stubborn).toMatchObject({ ok: false, timedOut: true });
      expect(stubborn.outputTail).toContain('stubborn');
      expect(Date.now() - started).toBeLessThan(10_000);
      const recordFile = join(host.stateDir, 'requests', `${createHash('sha256').update('stubborn-thaw').digest('hex')}.json`);
      const record = JSON.parse(readFileSync(recordFile, 'utf8'));
      expect(record.state).toBe('done');
      expect(record.pgid).toBeGreaterThan(0);
      expect(await waitGone(() => groupAlive(record.pgid), 5_000)).toBe(true);
      // And the driver reports such a step as failed, with the output tail.
      await expect(driver.freeze(ctxOf('slow-freeze'))).rejects.toThrow(StepFailedError);
      await expect(driver.thaw(ctxOf('stubborn-thaw'))).rejects.toThrow(/timed out and was killed[\s\S]*stubborn/);
    }, 60_000);

    it('kexec whose reboot returns quickly is reported rebootReturned; the driver throws KexecReturnedError', async () => {
      // No kernel staged: the simulated reboot syscall fails at once.
      rmSync(host.sim('staged-kernel'), { force: true });
      const res = await host.signedFetch('POST', '/v1/steps/kexec', stepBody('kexec-returns'));
      expect(res.status).toBe(200);
      const answer = (await res.json()) as StepAnswer;
      expect(answer).toMatchObject({ ok: false, rebootReturned: true, exitCode: 1 });
      expect(answer.outputTail.join('\n')).toMatch(/no kexec image loaded/);
      await expect(driver.kexec(ctxOf('kexec-returns-2'))).rejects.toThrow(KexecReturnedError);
    });

    it('kexec whose hook keeps running past the return window is answered 202, and never run twice', async () => {
      writeFileSync(host.sim('staged-kernel'), '6.18.0-luo2\n');
      host.fault('delay-kexec', '4000');
      const started = Date.now();
      const res = await host.signedFetch('POST', '/v1/steps/kexec', stepBody('kexec-issued'));
      expect(res.status).toBe(202);
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(await bodyOf(res)).toMatchObject({ ok: true, rebootIssued: true });
      await sleep(300);
      const again = await host.signedFetch('POST', '/v1/steps/kexec', stepBody('kexec-issued'));
      expect(again.status).toBe(202);
      expect(ran('kexec-issued')).toBe(1);
      // Let the simulated kexec finish and the supervisor "reboot" the host before the next test.
      rmSync(host.sim('delay-kexec'));
      expect(await waitGone(() => host.readSim('staged-kernel') !== undefined, 30_000)).toBe(true);
      await host.idle();
      expect(host.restarts).toBe(1);
    }, 60_000);

    it('refuses a VM step whose hook is not configured with 409, running nothing', async () => {
      const body = stepBody('no-drain', { strategy: 'evacuate', migrations: [{ vmId: 'vm-a', targetHostId: 'hv-2' }] });
      const res = await host.signedFetch('POST', '/v1/steps/drain', body);
      expect(res.status).toBe(409);
      expect((await bodyOf(res)).message).toMatch(/no drain hook is configured/);
      expect(ran('no-drain')).toBe(0);
      // The driver reports it as a failed step: the machine then rolls the host back.
      await expect(driver.drain({ ...ctxOf('no-drain-2'), strategy: 'evacuate', migrations: [] })).rejects.toBeInstanceOf(StepFailedError);
    }, 30_000);
  });

  describe('host facts', () => {
    it('topology is the sysfs tree read by readSysfsTopology, through the driver', async () => {
      expect(await driver.topology()).toEqual(await readSysfsTopology(host.sysfsRoot));
    });

    it('identity reports LUO enabled only with /dev/liveupdate and liveupdate=on kho=on', async () => {
      const on = (await (await host.signedFetch('GET', '/v1/identity')).json()) as IdentityAnswer;
      expect(on).toMatchObject({ luoEnabled: true, reasons: [], bootId: host.readSim('boot_id'), kernelRelease: host.readSim('osrelease') });

      rmSync(host.sim('liveupdate'));
      writeFileSync(host.sim('cmdline'), 'ro liveupdate=on\n');
      const off = (await (await host.signedFetch('GET', '/v1/identity')).json()) as IdentityAnswer;
      expect(off.luoEnabled).toBe(false);
      expect(off.reasons).toEqual(['LUO_DISABLED']);
      expect(off.detail!.join('\n')).toMatch(/liveupdate does not exist[\s\S]*lacks kho=on/);
      expect((await driver.identity()).luoEnabled).toBe(false);
      writeFileSync(host.sim('liveupdate'), '');
      writeFileSync(host.sim('cmdline'), 'ro liveupdate=on kho=on\n');
    });

    it('incoming lists what the incoming hook prints', async () => {
      writeFileSync(host.sim('incoming.json'), JSON.stringify(['0000:01:00.0']));
      expect(await driver.incoming(ctxOf('incoming-1'))).toEqual({ incoming: ['0000:01:00.0'] });
      writeFileSync(host.sim('incoming.json'), JSON.stringify(['not-a-bdf']));
      await expect(driver.incoming(ctxOf('incoming-2'))).rejects.toThrow(/incoming hook/);
    });
  });
});

describe('agent configuration errors', () => {
  it('the agent refuses to start and names the field', async () => {
    const host = { dir: '' };
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    host.dir = mkdtempSync(join(tmpdir(), 'luo-agent-config-'));
    try {
      const file = join(host.dir, 'agent.json');
      writeFileSync(file, JSON.stringify({ hostId: 'hv-x', secretFile: '/nonexistent', stateDir: host.dir, hooks: { preserve: { command: 'luoctl', timeoutMs: 'soon' } } }));
      const run = await runNode([AGENT_MAIN], { ...process.env, LUO_AGENT_CONFIG: file });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/hooks\.preserve\.command: must be an absolute path/);
      expect(run.stderr).toMatch(/hooks\.preserve\.timeoutMs/);
      expect(run.stderr).toMatch(/hooks\.kexec/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      const unset = await runNode([AGENT_MAIN], { ...process.env, LUO_AGENT_CONFIG: '' });
      expect(unset.code).toBe(2);
      expect(unset.stderr).toMatch(/LUO_AGENT_CONFIG/);
    } finally {
      rmSync(host.dir, { recursive: true, force: true });
    }
  }, 30_000);
});

async function waitGone(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (check()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}
