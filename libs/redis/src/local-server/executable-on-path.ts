import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The full path of `binary` in the first PATH directory holding it as an executable, or null. */
export function executableOnPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
