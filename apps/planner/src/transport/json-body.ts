import type { IncomingMessage, ServerResponse } from 'node:http';
import { MalformedBody } from '../http/api-error';

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** `64mb`, `512kb`, `100b` (the PLANNER_BODY_LIMIT forms) in bytes. */
export function byteSize(text: string): number {
  const m = /^(\d+)(b|kb|mb)$/i.exec(text);
  if (!m) throw new Error(`not a size such as 64mb: ${text}`);
  return Number(m[1]) * UNITS[m[2].toLowerCase()];
}

function isJsonType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * The request's JSON body, or undefined when it has none or is not sent as JSON (the route's
 * schema then names `body`). At most `limit` bytes are read: a larger declared length is refused
 * unread, a longer stream as soon as it passes the limit, and the caller must close the connection
 * then (the rest is never read). Only UTF-8 and no content encoding: a compressed body would be
 * bigger inflated than its length says. Refusals are MalformedBody: 413 too large, 415 not UTF-8
 * JSON as sent, 400 malformed.
 */
export function readJsonBody(req: IncomingMessage, res: ServerResponse, limit: number, limitText: string): Promise<unknown> {
  const declared = req.headers['content-length'];
  if ((declared === undefined || declared === '0') && req.headers['transfer-encoding'] === undefined) return Promise.resolve(undefined);
  if (!isJsonType(req.headers['content-type'])) return Promise.resolve(undefined);
  const refuse = (err: MalformedBody): Promise<never> => {
    res.setHeader('Connection', 'close');
    return Promise.reject(err);
  };
  const charset = /;\s*charset=("?)([^";]+)\1/i.exec(req.headers['content-type'] ?? '')?.[2].toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return refuse(new MalformedBody(415, `unsupported charset "${charset.slice(0, 32)}": send UTF-8`));
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') return refuse(new MalformedBody(415, `content encoding ${encoding.slice(0, 32)} is not accepted: send the JSON uncompressed`));
  const tooLarge = () => new MalformedBody(413, `request body is larger than ${limitText}, the limit of this route`);
  if (declared !== undefined && Number(declared) > limit) return refuse(tooLarge());

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop();
        req.pause();
        res.setHeader('Connection', 'close');
        return reject(tooLarge());
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new MalformedBody(400, `malformed JSON (${(err as Error).message})`));
      }
    };
    const onError = (err: Error) => {
      stop();
      reject(new MalformedBody(400, `request body not received: ${err.message}`));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
