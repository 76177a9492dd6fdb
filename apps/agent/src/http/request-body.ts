import type { IncomingMessage } from 'node:http';

export interface BodyLimits {
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  bodyIdleMs: number;
}

export type BodyRead = { ok: true; raw: Buffer } | { ok: false; status: 408 | 413; problem: string };

/**
 * Reads a request body whole, or stops as soon as it is too large, too slow in total or silent
 * for too long: a client trickling bytes holds a connection only until then. After a refusal the
 * connection is not read further; the caller answers and closes it.
 */
export function readRequestBody(req: IncomingMessage, limits: BodyLimits): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (read: BodyRead) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(idle);
      req.off('data', onData);
      if (!read.ok) req.pause();
      resolve(read);
    };
    const tooSlow = (problem: string) => () => settle({ ok: false, status: 408, problem });
    const total = setTimeout(tooSlow(`the body took longer than ${limits.bodyTimeoutMs} ms`), limits.bodyTimeoutMs);
    let idle = setTimeout(tooSlow(`no body bytes for ${limits.bodyIdleMs} ms`), limits.bodyIdleMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBodyBytes) return settle({ ok: false, status: 413, problem: `the body exceeds ${limits.maxBodyBytes} bytes` });
      chunks.push(chunk);
      clearTimeout(idle);
      idle = setTimeout(tooSlow(`no body bytes for ${limits.bodyIdleMs} ms`), limits.bodyIdleMs);
    };
    req.on('data', onData);
    req.on('end', () => settle({ ok: true, raw: Buffer.concat(chunks) }));
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(idle);
      reject(err);
    });
  });
}

/**
 * Whether JSON text nests arrays and objects deeper than `max`, found by one pass over the bytes
 * before anything parses or walks it: a parser, a schema or JSON.stringify that recurses runs out
 * of stack long before a 1 MiB body runs out of brackets.
 */
export function nestsDeeperThan(raw: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
