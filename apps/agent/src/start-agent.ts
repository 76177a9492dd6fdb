import 'reflect-metadata';
import { createAgentApp } from './agent-app';
import { AgentConfigError, loadAgentConfig, readAgentSecret, type AgentConfig } from './config/agent-config';

/**
 * The agent process: config from LUO_AGENT_CONFIG (exit 2 naming the field when it is wrong), then
 * the HTTP app. main.ts runs it; so does the bundle's loader (agent-loader.ts).
 */
export function startAgent(): void {
  bootstrap().catch((err: unknown) => {
    process.stderr.write(`luo-agent: cannot start: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(1);
  });
}

async function bootstrap(): Promise<void> {
  // The imports above have run: what is left is the agent's own start-up work.
  const loadedMs = performance.now();
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
  // Milliseconds since the process started: a slow start shows whether loading or starting took the time.
  const upMs = Math.round(performance.now());
  process.stdout.write(`luo-fleet agent for ${config.hostId} listening on ${url} (${upMs} ms after start, modules loaded at ${Math.round(loadedMs)} ms)\n`);
}
