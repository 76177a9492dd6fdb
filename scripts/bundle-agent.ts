/**
 * Part of `npm run build`: the host agent as one file, dist/agent/luo-agent.js, bundled by esbuild
 * from the compiled dist/apps/agent/src/main.js (tsc has already written the decorator metadata
 * Nest reads, and tsc-alias the @luo-fleet/* paths). Node then reads one file at start-up instead
 * of about a thousand modules: what a host spends before its agent answers after a kexec, and
 * most of it where files are slow to reach (the kernel tests' guest reads them over virtio-9p).
 *
 * Left out of the bundle: koffi, a native addon loaded only when a Live Update step needs a
 * system call (resolved from node_modules beside dist/ as before), and the optional packages Nest
 * imports only for features the agent does not use.
 */
import { build } from 'esbuild';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const AGENT_BUNDLE = join(ROOT, 'dist/agent/luo-agent.js');

const NOT_BUNDLED = ['koffi', '@nestjs/microservices', '@nestjs/websockets', 'class-transformer', 'class-validator'];

async function main(): Promise<void> {
  const result = await build({
    entryPoints: [join(ROOT, 'dist/apps/agent/src/main.js')],
    outfile: AGENT_BUNDLE,
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
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  console.log(`bundle-agent: ${AGENT_BUNDLE} (${(bytes / 1024 / 1024).toFixed(1)} MiB, ${Object.keys(result.metafile.inputs).length} modules)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
