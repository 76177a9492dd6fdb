import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFixtures } from '../../scripts/fixture-specs';
import { REPO } from './run-cli';

/** Every file and link under dir (directories only by what they hold: git keeps no empty ones). */
function snapshot(dir: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isSymbolicLink()) out.set(p, `-> ${readlinkSync(join(dir, p))}`);
    else if (e.isDirectory()) for (const [k, v] of snapshot(dir, p)) out.set(k, v);
    else out.set(p, readFileSync(join(dir, p)).toString('base64'));
  }
  return out;
}

const scratch = mkdtempSync(join(tmpdir(), 'luo-fixtures-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('test/fixtures', () => {
  it('are exactly what scripts/fixture-specs.ts generates (run `npm run fixtures` after changing it)', () => {
    writeFixtures(scratch);
    const committed = snapshot(join(REPO, 'test/fixtures'));
    const generated = snapshot(scratch);
    expect([...committed.keys()].sort()).toEqual([...generated.keys()].sort());
    for (const [path, content] of generated) expect(committed.get(path), path).toBe(content);
  });
});
