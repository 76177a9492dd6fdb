import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { constants, Script } from 'node:vm';

/**
 * How `dist/agent/luo-agent.js` starts the agent (scripts/bundle-agent.ts copies this file there):
 * it compiles the one-file bundle beside it (`agent-modules.js`) with the V8 code cache written at
 * build time (`agent-modules.v8cache`), so that Node skips parsing and compiling most of the
 * agent's code at start-up. V8 uses the cache only when it was made by the same V8 with the same
 * flags for the same source, and otherwise compiles as usual: a stale or foreign cache costs
 * nothing but the time it would have saved. Imports only Node's own modules: it is not bundled.
 */
export const AGENT_MODULES = 'agent-modules.js';
export const AGENT_CODE_CACHE = 'agent-modules.v8cache';

export interface AgentModules {
  startAgent(): void;
}

/** The bundle compiled (with `cachedData` when given), not yet run; `run` evaluates its modules. */
export function compileAgentModules(dir: string, cachedData?: Buffer): { script: Script; run(): AgentModules } {
  const file = join(dir, AGENT_MODULES);
  const script = new Script(Module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
    // The bundle imports nothing dynamically but Nest's optional packages, which it does not use.
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const run = () => {
    const mod = { exports: {} as AgentModules };
    const wrapper = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
    wrapper(mod.exports, createRequire(file), mod, file, dirname(file));
    return mod.exports;
  };
  return { script, run };
}

function readCache(dir: string): Buffer | undefined {
  try {
    return readFileSync(join(dir, AGENT_CODE_CACHE));
  } catch {
    return undefined;
  }
}

if (require.main === module) compileAgentModules(__dirname, readCache(__dirname)).run().startAgent();
