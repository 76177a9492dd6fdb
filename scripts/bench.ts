/**
 * `npm run bench [-- NAME...]`: runs every benchmark in scripts/bench/ (or the named ones) and prints
 * its figures. Each module exports `name` and `run()`; targets are printed as PASS/MISS lines
 * rather than asserted, so a slow machine still shows its numbers.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

interface Benchmark {
  name: string;
  run(): Promise<void>;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const dir = join(__dirname, 'bench');
  const files = readdirSync(dir).filter((f) => f.endsWith('.bench.js')).sort();
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bench = require(join(dir, file)) as Benchmark;
    if (wanted.length > 0 && !wanted.includes(bench.name)) continue;
    console.log(`\n== bench: ${bench.name}`);
    await bench.run();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
