/* global process, console, setTimeout, URL */
// The VMM side of the agent's Live Update driver inside the test guest, for the stand-in VMs of
// vm.mjs (their registry is <dir>/<id>.json). One hook per subcommand:
//   guest-memory <dir>   prints {"vms":[{id,pid,memory:[{fd}]}]} for every running VM
//   pause <dir>          freeze: SIGSTOP every VM;  resume <dir>: thaw, SIGCONT
//   restore <dir>        new kernel: stdin lists each VM's memory fds (inherited as 3, 4, ...);
//                        starts each VM again on its memory and waits until it checked the pattern
import { spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [command, dir] = process.argv.slice(2);
const here = new URL('.', import.meta.url).pathname;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function running() {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
    .filter((vm) => alive(vm.pid));
}

async function restore() {
  const request = JSON.parse(readFileSync(0, 'utf8'));
  for (const vm of request.vms) {
    rmSync(join(dir, `${vm.id}.json`), { force: true });
    const log = openSync(join(dir, `${vm.id}.log`), 'a');
    // Its own session: the agent ends this hook's process group when the hook exits.
    const child = spawn(process.execPath, [join(here, 'vm.mjs'), 'resume', vm.id, dir], {
      detached: true,
      stdio: ['ignore', log, log, vm.memory[0].fd],
    });
    child.unref();
  }
  const deadline = Date.now() + 50_000;
  for (const vm of request.vms) {
    const file = join(dir, `${vm.id}.json`);
    while (!existsSync(file)) {
      if (Date.now() > deadline) throw new Error(`vm ${vm.id} did not come back`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const entry = JSON.parse(readFileSync(file, 'utf8'));
    if (!entry.patternIntact) throw new Error(`vm ${vm.id}: guest memory differs from its pattern (page ${entry.firstBadPage})`);
    console.log(`vm ${vm.id}: resumed on its preserved memory, pattern intact (${entry.bytes} bytes)`);
  }
}

if (command === 'guest-memory') {
  process.stdout.write(JSON.stringify({ vms: running().map(({ id, pid, memory }) => ({ id, pid, memory })) }));
} else if (command === 'pause' || command === 'resume') {
  for (const vm of running()) {
    process.kill(vm.pid, command === 'pause' ? 'SIGSTOP' : 'SIGCONT');
    console.log(`vm ${vm.id}: ${command}d`);
  }
} else if (command === 'restore') {
  await restore();
} else {
  console.error('usage: vmm.mjs guest-memory|pause|resume|restore <dir>');
  process.exit(2);
}
