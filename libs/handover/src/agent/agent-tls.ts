import { request } from 'node:https';

/** PEM bytes for mutual TLS with an agent: this client's certificate and key, and the CA that signed the agents'. */
export interface AgentTls {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/**
 * One HTTPS exchange presenting a client certificate and trusting only `tls.ca` (global fetch
 * cannot present one without a dispatcher package). Failures are thrown as `{ name, message,
 * cause: { code, message } }`, the shape fetch throws, so callers read both alike. node:https never
 * follows a redirect; an answer past `maxBytes` is refused with `tooLarge()` and the rest left unread.
 */
export function tlsExchange(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  tls: AgentTls,
  timeoutMs: number,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method, headers: init.headers, cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: 'TLSv1.2' }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.byteLength;
        if (size > maxBytes) {
          clearTimeout(timer);
          req.destroy();
          reject(tooLarge());
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', fail);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' }));
    }, timeoutMs);
    function fail(err: NodeJS.ErrnoException): void {
      clearTimeout(timer);
      reject(Object.assign(new Error(err.message), { cause: { code: err.code, message: err.message } }));
    }
    req.on('error', fail);
    req.end(init.body);
  });
}
