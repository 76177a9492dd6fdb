import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_STEPS } from '@luo-fleet/handover';
import { createAgentApp, type AgentApp } from '../../../apps/agent/src/agent-app';
import { parseAgentConfig } from '../../../apps/agent/src/config/agent-config';
import { agentPathsIn } from './agent-paths';

/**
 * An in-process agent on 127.0.0.1 requiring mutual TLS: it serves `dir/agent.crt` and accepts
 * clients whose certificate `dir/<clientCa>.crt` signed (see issueCertificate). Its fake /proc
 * files say boot `boot-1`, Live Update enabled; every hook is /bin/true; `sysfsFixture`, when
 * given, is copied in as its sysfs.
 */
export async function startTlsAgent(dir: string, hostId: string, clientCa: string, sysfsFixture?: string): Promise<{ agent: AgentApp; secret: Buffer }> {
  const secret = Buffer.from(randomBytes(32).toString('hex'));
  const paths = agentPathsIn(dir);
  writeFileSync(paths.secretFile, secret, { mode: 0o600 });
  mkdirSync(paths.stateDir);
  writeFileSync(paths.bootIdPath, 'boot-1\n');
  writeFileSync(paths.kernelReleasePath, '6.12.0\n');
  writeFileSync(paths.cmdlinePath, 'liveupdate=on kho=on\n');
  writeFileSync(paths.liveupdateDevicePath, '');
  if (sysfsFixture) cpSync(sysfsFixture, paths.sysfsRoot, { recursive: true, verbatimSymlinks: true });
  const config = parseAgentConfig({
    hostId,
    listen: { host: '127.0.0.1', port: 0 },
    ...paths,
    tls: { certFile: join(dir, 'agent.crt'), keyFile: join(dir, 'agent.key'), clientCaFile: join(dir, `${clientCa}.crt`) },
    hooks: Object.fromEntries([...AGENT_STEPS, 'incoming'].map((s) => [s, { command: '/bin/true', args: [], timeoutMs: 5_000 }])),
  });
  return { agent: await createAgentApp(config, secret, ['error']), secret };
}
