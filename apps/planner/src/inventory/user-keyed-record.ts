import { z } from 'zod';

/**
 * A JSON object whose keys the caller chooses (labels, devices per host), as a null-prototype
 * object: a key such as `constructor` finds nothing it was not sent. JSON.parse keeps a
 * `__proto__` key as an ordinary property, but zod's record would drop it without a word, so it
 * is refused here, named like any other wrong key.
 */
export function userKeyedRecord<K extends z.ZodType<string, string>, V extends z.ZodType>(key: K, value: V, reservedKeyProblem: string) {
  // The transform stays inside the preprocess: outside it, OpenAPI would show the field as optional.
  return z.preprocess(
    (raw, ctx) => {
      if (typeof raw === 'object' && raw !== null && Object.hasOwn(raw, '__proto__')) {
        ctx.addIssue({ code: 'custom', path: ['__proto__'], message: reservedKeyProblem });
      }
      return raw;
    },
    z.record(key, value).transform((record) => Object.assign(Object.create(null) as Record<z.output<K>, z.output<V>>, record)),
  );
}
