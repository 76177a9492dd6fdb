import { HOST_ID, LABEL_KEY, LABEL_MAX, LABEL_VALUE, parseSelector, REQUIRED_LABELS, SelectorError } from '@luo-fleet/store';
import { AGENT_ADDRESS_RULE, AgentAddressError, agentAddress } from '@luo-fleet/handover';
import { hostTopologySchema, parseHostTopology, TopologyValidationError, type HostTopology } from '@luo-fleet/topology';
import { hostVmsDoc, hostVmsSchema } from './host-vms';
import { z } from 'zod';
import { fieldPath } from '../http/api-error';
import { jsonSchemaOf } from '../http/openapi';
import { userKeyedRecord } from './user-keyed-record';

export const MAX_BATCH = 1000;
const MAX_LABELS = 64;

export const hostIdSchema = z
  .string()
  .regex(HOST_ID, 'must be 1-63 characters of a-z 0-9 . -, starting with a letter or digit');

const LABEL_KEY_RULE = `label key must be 1-${LABEL_MAX} characters of a-z 0-9 _ . / -, starting and ending with a letter or digit`;

const labelsSchema = userKeyedRecord(z.string(), z.string(), LABEL_KEY_RULE).superRefine((labels, ctx) => {
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_LABELS} labels, got ${keys.length}`, path: [] });
  for (const key of keys) {
    if (key.length > LABEL_MAX || !LABEL_KEY.test(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: LABEL_KEY_RULE });
    } else if (labels[key].length > LABEL_MAX || !LABEL_VALUE.test(labels[key])) {
      ctx.addIssue({ code: 'custom', path: [key], message: `label value must be 0-${LABEL_MAX} characters of A-Z a-z 0-9 _ . -, starting and ending with a letter or digit` });
    }
  }
  for (const required of REQUIRED_LABELS) {
    if (!Object.hasOwn(labels, required)) ctx.addIssue({ code: 'custom', path: [required], message: `required label (${REQUIRED_LABELS.join(' and ')} are the failure domains rollouts spread over)` });
  }
});

/** The agent's address, stored in its canonical form (agentAddress: scheme, host and port only). */
const agentUrlSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return agentAddress(text);
    } catch (err) {
      if (!(err instanceof AgentAddressError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.problem });
      return z.NEVER;
    }
  })
  .describe(`e.g. https://hv-0042.mgmt:7450: ${AGENT_ADDRESS_RULE}`);

const driverSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('simulated') }),
  z.strictObject({ kind: z.literal('agent'), url: agentUrlSchema }),
]);

/**
 * Host topology JSON, checked by the topology library so its every wrong field is named too.
 * Absent (undefined) and null differ: an agent-backed host sent without one gets its agent's.
 */
const topologySchema = z
  .unknown()
  .optional()
  .transform((value, ctx): HostTopology | null | undefined => {
    if (value === undefined || value === null) return value;
    try {
      return parseHostTopology(value);
    } catch (err) {
      if (!(err instanceof TopologyValidationError)) throw err;
      for (const issue of err.issues) ctx.addIssue({ code: 'custom', message: issue.problem, path: fieldPath(issue.path).split('.').filter((s) => s !== '') });
      return z.NEVER;
    }
  });

/** What a host can run, for evacuations (design 4.6): VM slots, or vCPUs and memory. */
const capacitySchema = z
  .union([
    z.strictObject({ slots: z.number().int('must be a whole number').min(0).max(100_000) }),
    z.strictObject({
      vcpus: z.number().int('must be a whole number').min(0).max(1_000_000),
      memoryMiB: z.number().int('must be a whole number').min(0).max(2 ** 40),
    }),
  ], { error: 'must be {"slots": n} or {"vcpus": n, "memoryMiB": n}' })
  .optional()
  .describe('what the host can run when VMs are evacuated to it: VM slots, or vCPUs and memory; without it the host takes no VMs');

/** Host-level facts (design 4.1): unknown when absent, which plans as if Live Update were on. */
const luoEnabledSchema = z
  .boolean({ error: 'must be true or false' })
  .optional()
  .describe("whether the host's kernel has Live Update on (/dev/liveupdate, liveupdate=on kho=on); false: planned without a Live Update (LUO_DISABLED). " +
    "An agent-backed host sent without `topology` gets its agent's answer (GET /v1/identity) unless this is sent");

export const hostInputSchema = z.strictObject({
  id: hostIdSchema,
  labels: labelsSchema,
  driver: driverSchema.default({ kind: 'simulated' }),
  topology: topologySchema,
  vms: hostVmsSchema,
  capacity: capacitySchema,
  luoEnabled: luoEnabledSchema,
});
export type HostInputBody = z.output<typeof hostInputSchema>;

export const hostBatchSchema = z
  .strictObject({ hosts: z.array(hostInputSchema).min(1).max(MAX_BATCH) })
  .superRefine((batch, ctx) => {
    const first = new Map<string, number>();
    batch.hosts.forEach((host, i) => {
      const earlier = first.get(host.id);
      if (earlier === undefined) first.set(host.id, i);
      else ctx.addIssue({ code: 'custom', path: ['hosts', i, 'id'], message: `duplicate of hosts.${earlier}.id (${host.id})` });
    });
  });

/** A label selector in a query or body: parsed here, so a malformed one is a 400 naming `selector`. */
export const selectorSchema = z
  .string()
  .max(4096)
  .default('')
  .transform((text, ctx) => {
    try {
      return parseSelector(text);
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.problem });
      return z.NEVER;
    }
  });

export const hostListQuery = z.strictObject({
  selector: selectorSchema,
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: hostIdSchema.optional(),
});

/** For OpenAPI: the topology field is validated by parseHostTopology, documented by its zod schema. */
export function hostInputDoc(): Record<string, unknown> {
  const doc = jsonSchemaOf(hostInputSchema) as { properties: Record<string, unknown> };
  doc.properties.topology = { ...jsonSchemaOf(hostTopologySchema), description:
      'HostTopology JSON (as `luo-fleet plan --json` reads it from sysfs). Omitted for an agent-backed host: the planner reads it from the agent ' +
      '(GET /v1/topology, signed with the secret in its AGENT_SECRETS_DIR). null: registered without one.' };
  doc.properties.vms = hostVmsDoc();
  return doc;
}

export function hostBatchDoc(): Record<string, unknown> {
  return { type: 'object', properties: { hosts: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: hostInputDoc() } }, required: ['hosts'], additionalProperties: false };
}
