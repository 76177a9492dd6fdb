import type { AgentConfig } from '../config/agent-config';

/** DI tokens: the config and the step runner are plain objects built before Nest starts. */
export const AGENT_CONFIG = Symbol('AGENT_CONFIG');
export const HOST_STEPS = Symbol('HOST_STEPS');

export type { AgentConfig };

/** The bits of express' response a controller touches (the types package is not installed). */
export interface ReplyHandle {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}
