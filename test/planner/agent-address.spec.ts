import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlanner, type PlannerUnderTest } from './planner-harness';

/*
 * driver.url is where the planner (and later the workers) send signed requests: it is an address
 * (scheme, host, port) and nothing else; whatever answers there is never followed elsewhere, read
 * without limit, or echoed back to the API caller.
 */

const LABELS = { rack: 'r1', zone: 'z1' };
const agentHost = (id: string, url: string, extra: Record<string, unknown> = {}) => ({ id, labels: LABELS, driver: { kind: 'agent', url }, ...extra });

interface FakeAgent {
  url: string;
  paths: string[];
  server: Server;
}

async function fakeAgent(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<FakeAgent> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, server };
}

let planner: PlannerUnderTest;
let secretsDir: string;
const agents: FakeAgent[] = [];
const SECRET_TEXT = 'INTERNAL-ONLY-7f3a';

beforeAll(async () => {
  secretsDir = mkdtempSync(join(tmpdir(), 'luo-planner-secrets-'));
  for (const id of ['hv-redirect', 'hv-echo', 'hv-huge', 'hv-path']) writeFileSync(join(secretsDir, id), randomBytes(32).toString('hex'), { mode: 0o600 });
  planner = await startPlanner({ AGENT_SECRETS_DIR: secretsDir, AGENT_TIMEOUT_MS: '3000' });
});

afterAll(async () => {
  await planner?.close();
  for (const a of agents) a.server.closeAllConnections();
  await Promise.all(agents.map((a) => new Promise((r) => a.server.close(r))));
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
});

const stored = async (id: string) => (await planner.call('GET', `/v1/hosts/${id}`)).status;

describe('driver.url', () => {
  it('is scheme, host and port only: a path, query, fragment or credentials is a 400 naming driver.url', async () => {
    const refused = ['http://127.0.0.1:7450/v1/x', 'http://127.0.0.1:7450/?', 'http://127.0.0.1:7450#x', 'http://u:p@127.0.0.1:7450', 'ftp://127.0.0.1'];
    for (const url of refused) {
      const res = await planner.call('POST', '/v1/hosts', { body: agentHost('hv-path', url, { topology: null }) });
      expect(res.status, url).toBe(400);
      expect(res.body.issues.map((i: { field: string }) => i.field), url).toEqual(['driver.url']);
      expect(await stored('hv-path')).toBe(404);
    }
    const ok = await planner.call('POST', '/v1/hosts', { body: agentHost('hv-path', 'HTTP://HV-Path.Example:7450/', { topology: null }) });
    expect(ok.status).toBe(201);
    expect(ok.body.host.driver).toEqual({ kind: 'agent', url: 'http://hv-path.example:7450' });
  });

  it('never has a redirect followed: the signed request goes nowhere else, and the registration is refused', async () => {
    const elsewhere = await fakeAgent((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const redirecting = await fakeAgent((req, res) => res.writeHead(307, { location: `${elsewhere.url}${req.url}` }).end());
    agents.push(elsewhere, redirecting);
    const res = await planner.call('POST', '/v1/hosts', { body: agentHost('hv-redirect', redirecting.url) });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ field: 'driver.url', problem: expect.stringContaining('redirect (307), which is not followed') }]);
    expect(redirecting.paths).toEqual(['/v1/topology']);
    expect(elsewhere.paths).toEqual([]);
    expect(await stored('hv-redirect')).toBe(404);
  });

  it("does not echo what answers there: an error's message stays out of the 400", async () => {
    const echo = await fakeAgent((_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `${SECRET_TEXT} ${'z'.repeat(2000)}` })));
    agents.push(echo);
    const res = await planner.call('POST', '/v1/hosts', { body: agentHost('hv-echo', echo.url) });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ field: 'driver.url', problem: 'agent hv-echo refused topology with 500' }]);
    expect(JSON.stringify(res.body)).not.toContain(SECRET_TEXT);
  });

  it('reads an answer only up to a cap', async () => {
    const huge = await fakeAgent((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // 16 MB, never declared: more than any topology, written as fast as the planner reads.
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let left = 256;
      const more = () => {
        while (left > 0) {
          left--;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => undefined);
      more();
    });
    agents.push(huge);
    const res = await planner.call('POST', '/v1/hosts', { body: agentHost('hv-huge', huge.url) });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ field: 'driver.url', problem: expect.stringMatching(/larger than \d+ bytes/) }]);
  });
});
