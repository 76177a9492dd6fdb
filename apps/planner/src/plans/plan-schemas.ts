import { listRuleProfiles } from '@luo-fleet/preservation';
import { parseBdf } from '@luo-fleet/topology';
import { HOST_ID } from '@luo-fleet/store';
import { z } from 'zod';
import { hostIdSchema, selectorSchema } from '../inventory/host-schemas';
import { userKeyedRecord } from '../inventory/user-keyed-record';

const MAX_DEVICES_PER_HOST = 4096;
const HOST_ID_RULE = 'host id must be 1-63 characters of a-z 0-9 . -';

/** A BDF in any form parseBdf reads, canonicalised (the preservation builder wants canonical ones). */
const bdfSchema = z.string().transform((text, ctx) => {
  try {
    return parseBdf(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const profileSchema = z.string().superRefine((name, ctx) => {
  const known = listRuleProfiles().map((p) => p.name);
  if (!known.includes(name)) ctx.addIssue({ code: 'custom', message: `unknown rule profile ${JSON.stringify(name)} (known: ${known.join(', ')})` });
});

export const planRequestSchema = z.strictObject({
  selector: selectorSchema,
  profile: profileSchema.optional(),
  strictAcs: z.boolean().default(false),
  /** Devices to preserve per host; a host not listed gets every vfio-pci device. */
  devices: userKeyedRecord(z.string().regex(HOST_ID, HOST_ID_RULE), z.array(bdfSchema).max(MAX_DEVICES_PER_HOST), HOST_ID_RULE).optional(),
  /** False: just the fleet summary. */
  includeHosts: z.boolean().default(true),
  limit: z.number().int().min(1).max(1000).default(100),
  cursor: hostIdSchema.optional(),
});
export type PlanRequest = z.output<typeof planRequestSchema>;
