/** `npm run fixtures [-- DIR]`: regenerates the sysfs fixture hosts (default test/fixtures). */
import { resolve } from 'node:path';
import { FIXTURES, writeFixtures } from './fixture-specs';

const dir = resolve(process.argv[2] ?? 'test/fixtures');
writeFixtures(dir);
console.log(`wrote ${FIXTURES.length} fixture hosts and README.md to ${dir}`);
