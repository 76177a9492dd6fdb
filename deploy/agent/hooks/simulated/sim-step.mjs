#!/usr/bin/env node
/* global process, console */
/*
 * Simulated host side of a Live Update, for tests and demos: acts out each step on plain files in
 * $LUO_AGENT_STATE_DIR/sim/ instead of /dev/liveupdate, a VMM and a real kexec. See README.md.
 *
 * As a hook:   sim-step.mjs <step>           (the step comes from the agent config, never the request;
 *                                            the request JSON arrives on stdin)
 * To set up:   sim-step.mjs init <stateDir> <kernelRelease>
 * To reboot:    sim-step.mjs boot <stateDir>    (run by the supervisor between killing and starting the agent)
 * To migrate:   sim-step.mjs migrate <vmId> <targetHost>   (one VM; what the drain hook does for each)
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const STEPS = ['kexec_load', 'preserve', 'freeze', 'kexec', 'retrieve', 'finish', 'thaw', 'unpreserve', 'kexec_unload', 'incoming', 'vms', 'stop_vms', 'start_vms', 'drain', 'undrain'];

function simDir(stateDir) {
  return path.join(stateDir, 'sim');
}

function writeAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function readJson(file, fallback) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return fallback;
    throw err;
  }
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function init(stateDir, kernel) {
  if (!stateDir || !kernel) fail('usage: sim-step.mjs init <stateDir> <kernelRelease>');
  const dir = simDir(stateDir);
  fs.mkdirSync(dir, { recursive: true });
  writeAtomic(path.join(dir, 'boot_id'), `${crypto.randomUUID()}\n`);
  writeAtomic(path.join(dir, 'osrelease'), `${kernel}\n`);
  writeAtomic(path.join(dir, 'cmdline'), 'BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro liveupdate=on kho=on\n');
  writeAtomic(path.join(dir, 'liveupdate'), '');
}

/** The new kernel comes up: a new boot id, the staged kernel running, the preserved sessions incoming. */
function boot(stateDir) {
  if (!stateDir) fail('usage: sim-step.mjs boot <stateDir>');
  const dir = simDir(stateDir);
  const at = (name) => path.join(dir, name);
  if (!fs.existsSync(at('staged-kernel'))) fail('no kernel staged: nothing to boot into');
  const kernel = fs.readFileSync(at('staged-kernel'), 'utf8').trim();
  writeAtomic(at('incoming.json'), JSON.stringify(readJson(at('preserved.json'), [])));
  fs.rmSync(at('preserved.json'), { force: true });
  fs.rmSync(at('staged-kernel'), { force: true });
  writeAtomic(at('osrelease'), `${kernel}\n`);
  writeAtomic(at('boot_id'), `${crypto.randomUUID()}\n`);
  fs.appendFileSync(at('hook-log'), `boot - ${kernel}\n`);
}

/**
 * Live-migrates one VM away: it leaves vms.json and is noted in migrated.json with its target, in
 * that order, each file replaced atomically. Resent (it is gone already) it does nothing.
 */
function migrate(dir, vmId, target) {
  if (!vmId || !target) fail('usage: sim-step.mjs migrate <vmId> <targetHost>');
  const at = (name) => path.join(dir, name);
  const vms = readJson(at('vms.json'), []);
  const migrated = readJson(at('migrated.json'), []);
  if (!migrated.some((m) => m.vmId === vmId)) writeAtomic(at('migrated.json'), JSON.stringify([...migrated, { vmId, targetHostId: target }]));
  if (vms.some((vm) => vm.id === vmId)) writeAtomic(at('vms.json'), JSON.stringify(vms.filter((vm) => vm.id !== vmId)));
  fs.appendFileSync(at('hook-log'), `migrate ${vmId} ${target}\n`);
}

function readStdin() {
  try {
    const text = fs.readFileSync(0, 'utf8');
    return text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    fail(`cannot read the request from stdin: ${err.message}`);
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function main() {
  const [step, ...rest] = process.argv.slice(2);
  if (step === 'init') return init(rest[0], rest[1]);
  if (step === 'boot') return boot(rest[0]);
  if (step === 'migrate') {
    if (!process.env.LUO_AGENT_STATE_DIR) fail('LUO_AGENT_STATE_DIR is not set');
    return migrate(simDir(process.env.LUO_AGENT_STATE_DIR), rest[0], rest[1]);
  }
  if (!STEPS.includes(step)) fail(`unknown step ${step}; one of ${STEPS.join(', ')}`);
  const stateDir = process.env.LUO_AGENT_STATE_DIR;
  if (!stateDir) fail('LUO_AGENT_STATE_DIR is not set (the agent sets it for every hook)');
  const dir = simDir(stateDir);
  const at = (name) => path.join(dir, name);
  const request = readStdin();
  const log = (what) => fs.appendFileSync(at('hook-log'), `${step} ${request.requestId ?? '-'} ${what}\n`);

  log('start');
  const delay = fs.existsSync(at(`delay-${step}`)) ? Number(fs.readFileSync(at(`delay-${step}`), 'utf8').trim() || '0') : 0;
  if (delay > 0) sleep(delay);
  if (fs.existsSync(at(`fail-${step}`))) {
    log('failed');
    const why = fs.readFileSync(at(`fail-${step}`), 'utf8').trim();
    fail(step === 'kexec' ? `reboot(LINUX_REBOOT_CMD_KEXEC): ${why || 'Device or resource busy'}` : `simulated ${step} failure${why ? `: ${why}` : ''}`);
  }

  switch (step) {
    case 'kexec_load':
      writeAtomic(at('staged-kernel'), `${request.targetKernel}\n`);
      console.log(`loaded kernel ${request.targetKernel}`);
      break;
    case 'preserve': {
      const bdfs = (request.preservationSet?.devices ?? []).filter((d) => d.preservable).map((d) => d.bdf);
      writeAtomic(at('preserved.json'), JSON.stringify(bdfs));
      console.log(`session ${request.handoverId}: preserved ${bdfs.join(' ') || 'no devices'}`);
      break;
    }
    case 'freeze':
      writeAtomic(at('paused'), `${request.handoverId}\n`);
      console.log('vCPUs paused, device interrupts off');
      break;
    case 'kexec': {
      if (!fs.existsSync(at('staged-kernel'))) fail('reboot(LINUX_REBOOT_CMD_KEXEC): Invalid argument (no kexec image loaded)');
      // The machine goes down now: whoever runs the agent kills it, then (unless it never comes
      // back) runs `sim-step.mjs boot` and starts the agent again. Until then the old kernel's
      // files stay as they are, as a real host's would while it shuts down.
      const intent = fs.existsSync(at('never-return')) ? 'power-off-requested' : 'reboot-requested';
      writeAtomic(at(intent), `${request.requestId}\n`);
      console.log(intent === 'power-off-requested' ? 'rebooting (and never coming back)' : 'rebooting');
      break;
    }
    case 'retrieve': {
      const incoming = readJson(at('incoming.json'), null);
      if (incoming === null) fail('no incoming live-update session');
      writeAtomic(at('retrieved.json'), JSON.stringify(incoming));
      fs.rmSync(at('paused'), { force: true });
      console.log(`retrieved ${incoming.join(' ') || 'no devices'}; VMs resumed`);
      break;
    }
    case 'finish':
      if (!fs.existsSync(at('retrieved.json'))) fail('nothing retrieved: refusing to finish the session');
      fs.rmSync(at('incoming.json'), { force: true });
      writeAtomic(at('finished'), `${request.handoverId}\n`);
      console.log('session finished');
      break;
    case 'thaw':
      fs.rmSync(at('paused'), { force: true });
      console.log('VMs resumed');
      break;
    case 'unpreserve':
      fs.rmSync(at('preserved.json'), { force: true });
      console.log('session closed, fds released');
      break;
    case 'kexec_unload':
      fs.rmSync(at('staged-kernel'), { force: true });
      console.log('kexec image unloaded');
      break;
    case 'stop_vms': {
      const stopped = new Set([...readJson(at('stopped.json'), []), ...(request.restartVms ?? [])]);
      writeAtomic(at('stopped.json'), JSON.stringify([...stopped]));
      console.log(`stopped ${(request.restartVms ?? []).join(' ') || 'no VMs'}`);
      break;
    }
    case 'start_vms': {
      const starting = new Set(request.restartVms ?? []);
      writeAtomic(at('stopped.json'), JSON.stringify(readJson(at('stopped.json'), []).filter((id) => !starting.has(id))));
      console.log(`started ${[...starting].join(' ') || 'no VMs'}`);
      break;
    }
    case 'drain':
      writeAtomic(at('drained'), `${request.handoverId}\n`);
      for (const m of request.migrations ?? []) migrate(dir, m.vmId, m.targetHostId);
      console.log(`drained: ${(request.migrations ?? []).length} VMs migrated`);
      break;
    case 'undrain':
      fs.rmSync(at('drained'), { force: true });
      console.log('back in service');
      break;
    case 'incoming':
      process.stdout.write(`${JSON.stringify({ incoming: readJson(at('incoming.json'), []) })}\n`);
      break;
    case 'vms':
      // The simulated VMM's VMs, as written into vms.json (the inventory's form); none without it.
      process.stdout.write(`${JSON.stringify(readJson(at('vms.json'), []))}\n`);
      break;
  }
  log('ok');
}

main();
