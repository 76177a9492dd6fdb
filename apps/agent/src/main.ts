import 'reflect-metadata';
import { createAgentApp } from './agent-app';
import { AgentConfigError, loadAgentConfig, readAgentSecret, type AgentConfig } from './config/agent-config';

async function bootstrap(): Promise<void> {
  let config: AgentConfig;
  let secret: Buffer;
  try {
    config = loadAgentConfig(process.env.LUO_AGENT_CONFIG);
    secret = readAgentSecret(config, (m) => process.stderr.write(`luo-agent: warning: ${m}\n`));
  } catch (err) {
    if (!(err instanceof AgentConfigError)) throw err;
    process.stderr.write(`luo-agent: ${err.message}\n`);
    process.exit(2);
  }
  const { url } = await createAgentApp(config, secret);
  process.stdout.write(`luo-fleet agent for ${config.hostId} listening on ${url}\n`);
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`luo-agent: cannot start: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
