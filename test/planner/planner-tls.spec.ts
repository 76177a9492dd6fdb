import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlannerConfigError, plannerSettingsFromEnv } from '../../apps/planner/src/planner-settings';
import { issueCertificate } from '../support/test-certificates';
import { startPlanner, TOKENS, type PlannerUnderTest } from './planner-harness';

/* The planner's optional HTTPS, on loopback, with a CA and a certificate made here by openssl. */

function answer(get: typeof httpsGet | typeof httpGet, url: string, options: object): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, options, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('timed out')));
  });
}

describe('planner over HTTPS (PLANNER_TLS_CERT_FILE, PLANNER_TLS_KEY_FILE)', () => {
  let dir: string;
  let planner: PlannerUnderTest;
  let port: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luo-planner-tls-'));
    issueCertificate(dir, 'ca', 'planner', 'planner');
    planner = await startPlanner({ PLANNER_TLS_CERT_FILE: join(dir, 'planner.crt'), PLANNER_TLS_KEY_FILE: join(dir, 'planner.key') });
    port = new URL(planner.base).port;
  });

  afterAll(async () => {
    await planner?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers HTTPS for a client that trusts its CA, with the API behind the same token check', async () => {
    const ca = readFileSync(join(dir, 'ca.crt'));
    const health = await answer(httpsGet, `https://127.0.0.1:${port}/health`, { ca });
    expect(health.status).toBe(200);
    const refused = await answer(httpsGet, `https://127.0.0.1:${port}/v1/hosts`, { ca });
    expect(refused.status).toBe(401);
    const hosts = await answer(httpsGet, `https://127.0.0.1:${port}/v1/hosts`, { ca, headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(hosts.status).toBe(200);
  });

  it('is refused by a client that does not trust its certificate, and speaks no plain HTTP', async () => {
    await expect(answer(httpsGet, `https://127.0.0.1:${port}/health`, {})).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    const plain = await answer(httpGet, `http://127.0.0.1:${port}/health`, {}).catch((err: Error) => err);
    // An HTTPS server answers a plain request with a TLS alert or a 400, never the API.
    if (plain instanceof Error) expect(plain.message).toMatch(/socket hang up|ECONNRESET|parse/i);
    else expect(plain.status).not.toBe(200);
  });

  it('refuses to start with one of the two files, or an unreadable one, naming the variable', () => {
    const base = { LUO_FLEET_TOKENS: `alice:operator:${TOKENS.operator}` };
    expect(() => plannerSettingsFromEnv({ ...base, PLANNER_TLS_CERT_FILE: join(dir, 'planner.crt') })).toThrow(PlannerConfigError);
    expect(() => plannerSettingsFromEnv({ ...base, PLANNER_TLS_CERT_FILE: join(dir, 'planner.crt') })).toThrow(/PLANNER_TLS_KEY_FILE/);
    expect(() =>
      plannerSettingsFromEnv({ ...base, PLANNER_TLS_CERT_FILE: join(dir, 'missing.crt'), PLANNER_TLS_KEY_FILE: join(dir, 'planner.key') }),
    ).toThrow(/PLANNER_TLS_CERT_FILE: cannot read .*missing\.crt \(ENOENT\)/);
  });
});
