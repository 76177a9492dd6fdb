/**
 * Part of `npm run build`: the host agent as three files in dist/agent/, started with
 * `node dist/agent/luo-agent.js`:
 *   agent-modules.js        the whole agent in one file, bundled by esbuild from the compiled
 *                           dist/apps/agent/src/start-agent.js (tsc has already written the
 *                           decorator metadata Nest reads, and tsc-alias the @luo-fleet/* paths)
 *   agent-modules.v8cache   V8's code cache for it, made here after its modules ran once
 *   luo-agent.js            the loader (apps/agent/src/agent-loader.ts) that compiles the first
 *                           with the second and starts the agent
 * Node then reads one file instead of about a thousand modules, and compiles little of it: what a
 * host spends before its agent answers after a kexec, and most of it where files are slow to reach
 * (the kernel tests' guest reads them over virtio-9p).
 *
 * Left out of the bundle: koffi, a native addon loaded only when a Live Update step needs a
 * system call (resolved from node_modules beside dist/ as before), and the optional packages Nest
 * imports only for features the agent does not use.
 */
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AGENT_CODE_CACHE, AGENT_MODULES, compileAgentModules } from '../apps/agent/src/agent-loader';

const ROOT = resolve(__dirname, '..', '..');
const OUT = join(ROOT, 'dist/agent');
const COMPILED = join(ROOT, 'dist/apps/agent/src');

const NOT_BUNDLED = ['koffi', '@nestjs/microservices', '@nestjs/websockets', 'class-transformer', 'class-validator'];

async function main(): Promise<void> {
  const result = await build({
    entryPoints: [join(COMPILED, 'start-agent.js')],
    outfile: join(OUT, AGENT_MODULES),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: NOT_BUNDLED,
    // Whitespace and syntax only: names stay, since Nest and error messages show class names.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'linked',
    logLevel: 'warning',
    metafile: true,
  });
  // The loader needs nothing but Node: its compiled form is the entry point as it is.
  const loader = readFileSync(join(COMPILED, 'agent-loader.js'), 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  writeFileSync(join(OUT, 'luo-agent.js'), loader);
  // Run the modules once (nothing starts: only startAgent() would), so that the cache also holds
  // the functions their loading compiled.
  const agent = compileAgentModules(OUT);
  agent.run();
  const cache = agent.script.createCachedData();
  writeFileSync(join(OUT, AGENT_CODE_CACHE), cache);
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`bundle-agent: ${OUT}: ${Object.keys(result.metafile.inputs).length} modules in ${mib(bytes)}, code cache ${mib(cache.length)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
