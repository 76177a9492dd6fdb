import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { fieldPath, InvalidInput, type ApiIssue } from './api-error';

/** Where an input came from: a path parameter is named by its parameter name. */
function rootName(meta: ArgumentMetadata): string {
  if (meta.type === 'body') return 'body';
  if (meta.type === 'query') return 'query';
  return meta.data ?? 'param';
}

export function zodIssues(error: z.ZodError, root: string): ApiIssue[] {
  const issues: ApiIssue[] = [];
  for (const issue of error.issues) {
    // Unknown fields are named one by one rather than as their parent.
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) issues.push({ field: fieldPath(issue.path, key), problem: 'unknown field' });
      continue;
    }
    issues.push({ field: issue.path.length === 0 ? root : fieldPath(issue.path), problem: issue.message });
  }
  return issues;
}

/**
 * The planner's one validation pipe: every body, query and path parameter goes through a zod
 * schema, and a failure becomes a 400 naming each wrong field.
 */
@Injectable()
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown, meta: ArgumentMetadata): z.output<S> {
    const parsed = this.schema.safeParse(value);
    if (parsed.success) return parsed.data;
    throw new InvalidInput(zodIssues(parsed.error, rootName(meta)));
  }
}
