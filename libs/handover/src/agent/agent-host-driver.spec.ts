import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HostUnreachableError, KexecReturnedError, StepFailedError, type StepContext } from '../host-driver';
import { AgentAddressError } from './agent-address';
import { AgentAnswerError, AgentHostDriver } from './agent-host-driver';
import { stepRequestSchema } from './agent-wire';
import { verifyRequest } from './request-signature';

const secret = Buffer.from('a-test-secret-of-32-bytes-length');
const ctx = {
  handoverId: 'r1.hv-1',
  hostId: 'hv-1',
  rolloutId: 'r1',
  targetKernel: '6.18.0-luo2',
  requestId: 'r1.hv-1/kexec',
  preservationSet: { devices: [] },
} as unknown as StepContext;

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A stand-in agent on 127.0.0.1 that counts what reaches it and answers as told. */
async function fakeAgent(handler: Handler): Promise<{ url: string; hits: { method: string; path: string; signed: boolean }[]; server: Server }> {
  const hits: { method: string; path: string; signed: boolean }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const signed = verifyRequest(secret, { method: req.method!, path: req.url!, body }, req.headers).ok;
      hits.push({ method: req.method!, path: req.url!, signed });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

const servers: Server[] = [];
afterEach(async () => {
  // An answer refused half-read leaves its connection busy until the client's socket times out.
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.close(r), s.closeAllConnections()))));
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
};

const driverFor = (url: string, extra: Partial<ConstructorParameters<typeof AgentHostDriver>[0]> = {}) =>
  new AgentHostDriver({ url, hostId: 'hv-1', secret, timeoutMs: 1_000, retries: 2, retryDelayMs: 20, ...extra });

describe('AgentHostDriver', () => {
  it('sends the VM steps with what they act on, in a request the agent accepts', async () => {
    const bodies: unknown[] = [];
    const agent = await fakeAgent((req, res, body) => {
      bodies.push(JSON.parse(body));
      const step = req.url!.split('/').at(-1);
      json(res, 200, { step, requestId: 'x', ok: true, exitCode: 0, durationMs: 5, outputTail: [], timedOut: false });
    });
    const driver = driverFor(agent.url);
    const migrations = [{ vmId: 'vm-a', targetHostId: 'hv-2' }];
    await driver.stopVms({ ...ctx, strategy: 'live-update-restart', restartVms: ['vm-b'] });
    await driver.startVms({ ...ctx, strategy: 'live-update-restart', restartVms: ['vm-b'] });
    await driver.drain({ ...ctx, strategy: 'evacuate', migrations });
    await driver.undrain({ ...ctx, strategy: 'evacuate', migrations });
    expect(agent.hits.map((h) => h.path)).toEqual(['/v1/steps/stop_vms', '/v1/steps/start_vms', '/v1/steps/drain', '/v1/steps/undrain']);
    expect(bodies.map((b) => stepRequestSchema.safeParse(b).success)).toEqual([true, true, true, true]);
    expect(bodies[0]).toMatchObject({ strategy: 'live-update-restart', restartVms: ['vm-b'] });
    expect(bodies[2]).toMatchObject({ strategy: 'evacuate', migrations });
  });

  it('asks identity again after a lost answer, except once when told (a boot poll repeats by itself)', async () => {
    const agent = await fakeAgent((_req, res) => res.socket?.destroy());
    const driver = driverFor(agent.url);
    await expect(driver.identity()).rejects.toBeInstanceOf(HostUnreachableError);
    expect(agent.hits).toHaveLength(3);
    await expect(driver.identity({ once: true })).rejects.toBeInstanceOf(HostUnreachableError);
    expect(agent.hits).toHaveLength(4);
  });

  it('signs every request, and retries a step whose answer was lost (the agent dedups by requestId)', async () => {
    let calls = 0;
    const agent = await fakeAgent((_req, res) => {
      calls++;
      if (calls === 1) return res.socket?.destroy();
      json(res, 200, { step: 'preserve', requestId: ctx.requestId, ok: true, exitCode: 0, durationMs: 5, outputTail: [], timedOut: false });
    });
    await driverFor(agent.url).preserve(ctx);
    expect(agent.hits.map((h) => h.path)).toEqual(['/v1/steps/preserve', '/v1/steps/preserve']);
    expect(agent.hits.every((h) => h.signed)).toBe(true);
  });

  it('never sends kexec again once it may have reached the agent: a lost answer is HostUnreachableError', async () => {
    const agent = await fakeAgent((_req, res) => res.socket?.destroy());
    await expect(driverFor(agent.url).kexec(ctx)).rejects.toThrow(HostUnreachableError);
    expect(agent.hits).toHaveLength(1);

    const silent = await fakeAgent(() => {});
    await expect(driverFor(silent.url, { timeoutMs: 300 }).kexec(ctx)).rejects.toThrow(HostUnreachableError);
    expect(silent.hits).toHaveLength(1);
  });

  it('kexec: 202 resolves, rebootReturned is KexecReturnedError', async () => {
    const issued = await fakeAgent((_req, res) => json(res, 202, { step: 'kexec', requestId: ctx.requestId, ok: true, exitCode: null, durationMs: 1, outputTail: [], timedOut: false, rebootIssued: true }));
    await expect(driverFor(issued.url).kexec(ctx)).resolves.toBeUndefined();
    const returned = await fakeAgent((_req, res) =>
      json(res, 200, { step: 'kexec', requestId: ctx.requestId, ok: false, exitCode: 1, durationMs: 3, outputTail: ['reboot: EBUSY'], timedOut: false, rebootReturned: true }),
    );
    await expect(driverFor(returned.url).kexec(ctx)).rejects.toThrow(KexecReturnedError);
    await expect(driverFor(returned.url).kexec(ctx)).rejects.toThrow(/reboot: EBUSY/);
  });

  it('a failed hook is StepFailedError carrying the output tail; a refusal is not retried', async () => {
    const failing = await fakeAgent((_req, res) =>
      json(res, 200, { step: 'freeze', requestId: ctx.requestId, ok: false, exitCode: 3, durationMs: 9, outputTail: ['vmm: pause failed'], timedOut: false }),
    );
    await expect(driverFor(failing.url).freeze(ctx)).rejects.toThrow(/freeze hook on hv-1 exited 3[\s\S]*vmm: pause failed/);
    const refusing = await fakeAgent((_req, res) => json(res, 401, { statusCode: 401, message: 'stale signature' }));
    await expect(driverFor(refusing.url).identity()).rejects.toThrow(StepFailedError);
    expect(refusing.hits).toHaveLength(1);
  });

  it('holds its address to scheme, host and port: a path or query could send signed requests elsewhere', () => {
    for (const url of ['http://127.0.0.1:7450/?', 'http://127.0.0.1:7450/other', 'http://u:p@127.0.0.1:7450', 'http://127.0.0.1:7450#x']) {
      expect(() => driverFor(url), url).toThrow(AgentAddressError);
    }
    expect(() => driverFor('http://127.0.0.1:7450/')).not.toThrow();
  });

  it('never follows a redirect: the signed request goes nowhere else and the answer is refused', async () => {
    const elsewhere = await fakeAgent((_req, res) => json(res, 200, { bootId: 'b', kernelRelease: '6.18.0', luoEnabled: true, reasons: [] }));
    const redirecting = await fakeAgent((req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}${req.url}` });
      res.end();
    });
    const err = await driverFor(redirecting.url).identity().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentAnswerError);
    expect((err as AgentAnswerError).reason).toMatch(/redirect \(307\), which is not followed/);
    expect(redirecting.hits).toHaveLength(1);
    expect(elsewhere.hits).toHaveLength(0);
  });

  it('refuses an answer larger than maxAnswerBytes, declared or not', async () => {
    const big = JSON.stringify({ devices: [], pad: 'x'.repeat(64 * 1024) });
    const declared = await fakeAgent((_req, res) => json(res, 200, JSON.parse(big)));
    await expect(driverFor(declared.url, { maxAnswerBytes: 16 * 1024 }).topology()).rejects.toThrow(/larger than 16384 bytes/);
    const chunked = await fakeAgent((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 64; i++) res.write('x'.repeat(1024));
      res.end();
    });
    await expect(driverFor(chunked.url, { maxAnswerBytes: 16 * 1024 }).topology()).rejects.toThrow(/larger than 16384 bytes/);
  });

  it("keeps the agent's text out of an error's reason, and clips and cleans it in the message", async () => {
    const agent = await fakeAgent((_req, res) => json(res, 403, { message: `internal detail \u001b[31m${'y'.repeat(5000)}` }));
    const err = (await driverFor(agent.url).topology().catch((e: unknown) => e)) as AgentAnswerError;
    expect(err).toBeInstanceOf(AgentAnswerError);
    expect(err.reason).toBe('agent hv-1 refused topology with 403');
    expect(err.message).toMatch(/^agent hv-1 refused topology with 403: internal detail +\[31my+\.\.\.$/);
    expect(err.message.length).toBeLessThan(300);
  });

  it('no agent listening is HostUnreachableError after the retries', async () => {
    const agent = await fakeAgent(() => {});
    const url = agent.url;
    await new Promise((r) => agent.server.close(r));
    servers.length = 0;
    await expect(driverFor(url).identity()).rejects.toThrow(HostUnreachableError);
    await expect(driverFor(url).topology()).rejects.toThrow(/unreachable/);
  });
});
