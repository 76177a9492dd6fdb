import { vi } from 'vitest';
import type { Command } from 'ioredis';

/**
 * Counts the scripts run on `redis` (EVALSHA commands it sends) until `restore`: how many runs a
 * turn's batch took. Scripts go out through `sendCommand` (see LuaScript), so that is what is watched.
 */
export function countScriptRuns(redis: { sendCommand(command: Command): unknown }): { readonly count: number; readonly runs: Command[]; restore(): void } {
  const spy = vi.spyOn(redis, 'sendCommand');
  const runs = () => spy.mock.calls.map(([command]) => command).filter((command) => command.name === 'evalsha');
  return {
    get count() {
      return runs().length;
    },
    get runs() {
      return runs();
    },
    restore: () => spy.mockRestore(),
  };
}
