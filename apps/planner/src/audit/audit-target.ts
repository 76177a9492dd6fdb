import type { AuditTarget } from './audit-log';

const MAX_TEXT = 128;

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}...` : text;
}

/**
 * What a mutating call aimed at, from its path and body alone, so that refused calls (which never
 * reach a handler) are summarised too: `/v1/hosts/hv-1` -> `{ host: 'hv-1' }`, a body with `id`
 * -> that id, a batch -> how many hosts, a plan -> its selector.
 */
export function auditTargetOf(path: string, body: unknown): AuditTarget {
  const segments = path.split('/').filter((s) => s !== '');
  const collection = segments[0] === 'v1' && segments[1] ? segments[1].split(':')[0] : undefined;
  const kind = collection?.replace(/s$/, '');
  const target: AuditTarget = {};
  if (kind && segments[2]) {
    let id = segments[2];
    try {
      id = decodeURIComponent(id);
    } catch {
      // Keep the raw text: the request was refused for it anyway.
    }
    target[kind] = clip(id);
  }
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    if (kind && target[kind] === undefined && typeof b.id === 'string') target[kind] = clip(b.id);
    if (Array.isArray(b.hosts)) target.hosts = b.hosts.length;
    if (typeof b.selector === 'string') target.selector = clip(b.selector);
  }
  return target;
}
