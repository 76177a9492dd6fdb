import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { incomingReportSchema, type AgentStep, type IncomingAnswer, type StepAnswer, type StepRequest, type VmsAnswer } from '@luo-fleet/handover';
import { parseVms } from '@luo-fleet/topology';
import { hookFor, type AgentConfig, type HookCommand, type HookName } from '../config/agent-config';
import { groupAlive, signalGroup, startHook, STDOUT_CAP, type HookResult, type RunningHook } from '../hooks/hook-process';
import { LiveUpdateSteps } from '../liveupdate/live-update-steps';
import { KexecFence } from './kexec-fence';
import { pruneStepFiles } from './state-retention';
import { StepRecords, type StepRecord } from './step-records';

export interface StepOutcome {
  /** 200 for a step that ran (ok or not), 202 for a kexec under way. */
  status: 200 | 202;
  answer: StepAnswer;
  /** Answered from the idempotency record of an earlier request, nothing ran. */
  repeated: boolean;
}

/** The same requestId was used for another step: a caller bug, refused rather than guessed at. */
export class RequestIdConflictError extends Error {
  override name = 'RequestIdConflictError';
}

/** The host refuses to run this step now (answered 409): another step runs, or a kexec was already issued in this boot. */
export class StepRefusedError extends Error {
  override name = 'StepRefusedError';
}

/**
 * Finished records and outputs are pruned at most this often, the first time this long after the
 * agent starts: after a kexec the agent answers first, and housekeeping waits.
 */
const PRUNE_EVERY_MS = 60_000;

interface InFlight {
  step: AgentStep;
  outcome: Promise<StepOutcome>;
}

/**
 * Runs the configured hook of each step at most once per requestId (persisted, so it holds across
 * agent restarts). Concurrent requests for one requestId share the first one's run. The host runs
 * one step at a time, whoever asks: a step for another requestId while one runs is refused, and so
 * is a second kexec in one boot (the fence is persisted too).
 */
export class HostSteps {
  private readonly records: StepRecords;
  private readonly fence: KexecFence;
  private readonly inFlight = new Map<string, InFlight>();
  /** Tells this process's `running` records from those of an agent that died mid-step. */
  private readonly instance = randomBytes(8).toString('hex');
  /**
   * Steps an earlier agent process of this boot started, whose hooks may still run: read from the
   * records when the first step comes, not at start, so that a restarted agent answers sooner.
   */
  private orphans: Extract<StepRecord, { state: 'running' }>[] | undefined;
  private prunedAt = Date.now();
  /** With `liveupdate` configured, the agent's own driver does the steps that need /dev/liveupdate. */
  private readonly liveUpdate: LiveUpdateSteps | undefined;

  constructor(
    private readonly config: AgentConfig,
    private readonly log: (message: string) => void = () => {},
  ) {
    this.records = new StepRecords(config.stateDir);
    this.fence = new KexecFence(this.records.dir);
    const { liveupdate } = config;
    this.liveUpdate = liveupdate
      ? new LiveUpdateSteps({ ...config, liveupdate }, (hook, step, stdin, outputName, options) => this.launchCommand(hook, step, stdin, outputName, options), () => this.bootId())
      : undefined;
    setTimeout(() => this.prune(), PRUNE_EVERY_MS).unref();
  }

  run(step: AgentStep, request: StepRequest): Promise<StepOutcome> {
    const current = this.inFlight.get(request.requestId);
    if (current) {
      if (current.step !== step) return Promise.reject(this.conflict(request.requestId, current.step, step));
      return current.outcome.then((o) => ({ ...o, repeated: true }));
    }
    const busy = this.runningStep(request.requestId);
    if (busy) {
      // A repeat of a step that has ended is only an answer to give again.
      const record = this.records.read(request.requestId);
      if (record?.state === 'done' && record.step === step) return Promise.resolve({ status: record.status as 200 | 202, answer: record.answer, repeated: true });
      return Promise.reject(new StepRefusedError(`${busy.step} ${busy.requestId} is running on this host; it runs one step at a time`));
    }
    const outcome = this.resolve(step, request);
    this.inFlight.set(request.requestId, { step, outcome });
    const forget = () => this.inFlight.delete(request.requestId);
    outcome.then(forget, forget);
    return outcome;
  }

  /** The `incoming` query: a read, run on every call, nothing recorded. */
  async incoming(): Promise<IncomingAnswer> {
    if (this.liveUpdate) return this.liveUpdate.incoming();
    const { base, json, problem } = await this.query('incoming', hookFor(this.config, 'incoming'));
    if (problem !== undefined) return { ok: false, ...base, problem };
    const parsed = incomingReportSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, ...base, problem: `the incoming hook printed ${issue.path.join('.') || 'JSON'}: ${issue.message}` };
    }
    return { ok: true, ...base, incoming: parsed.data.incoming };
  }

  /**
   * The `vms` query: the host's VMs as the hook prints them (a JSON array in the inventory's form,
   * checked with parseVms, the one VM schema). Run on every call, nothing recorded.
   */
  async vms(): Promise<VmsAnswer> {
    const hook = this.config.hooks.vms;
    if (hook === undefined) {
      return { ok: true, configured: false, exitCode: null, outputTail: [], timedOut: false, problem: 'the agent has no vms hook configured' };
    }
    const { base, json, problem } = await this.query('vms', hook);
    if (problem !== undefined) return { ok: false, configured: true, ...base, problem };
    try {
      return { ok: true, configured: true, ...base, vms: parseVms(json) };
    } catch (err) {
      return { ok: false, configured: true, ...base, problem: `the vms hook printed ${(err as Error).message}` };
    }
  }

  /** Runs a query hook and reads the JSON it prints on stdout; `problem` says why there is none. */
  private async query(name: 'incoming' | 'vms', hook: HookCommand) {
    const outputName = `${name}-${randomBytes(6).toString('hex')}`;
    const result = await this.launch(name, JSON.stringify({ hostId: this.config.hostId }), outputName, true, hook).result;
    // A query leaves nothing worth keeping.
    for (const suffix of ['request.json', 'output', 'stdout']) rmSync(join(this.outputDir, `${outputName}.${suffix}`), { force: true });
    const base = { exitCode: result.exitCode, outputTail: result.outputTail, timedOut: result.timedOut };
    if (!result.ok) return { base, problem: `the ${name} hook failed` };
    if (result.stdout === undefined) {
      return { base, problem: `the ${name} hook printed ${result.stdoutBytes} bytes on stdout; an answer has at most ${STDOUT_CAP}` };
    }
    try {
      return { base, json: JSON.parse(result.stdout) as unknown };
    } catch {
      return { base, problem: `the ${name} hook did not print JSON on stdout` };
    }
  }

  /** The step (of another requestId) this host is running, in this agent process or left by an earlier one. */
  private runningStep(requestId: string): { step: AgentStep; requestId: string } | undefined {
    for (const [id, running] of this.inFlight) return { step: running.step, requestId: id };
    this.orphans = (this.orphans ?? this.leftRunning()).filter((r) => groupAlive(r.pgid!));
    return this.orphans.find((r) => r.requestId !== requestId);
  }

  /** `running` records of this boot with a process group: what earlier agent processes left running. */
  private leftRunning(): Extract<StepRecord, { state: 'running' }>[] {
    const bootId = this.bootId();
    return this.records.running().filter((r) => r.bootId === bootId && r.pgid !== undefined);
  }

  private async resolve(step: AgentStep, request: StepRequest): Promise<StepOutcome> {
    const record = this.records.read(request.requestId);
    if (record && record.step !== step) throw this.conflict(request.requestId, record.step, step);
    if (record?.state === 'done') return { status: record.status as 200 | 202, answer: record.answer, repeated: true };
    if (record?.state === 'running') {
      if (step === 'kexec') return this.kexecStartedBefore(record);
      // Steps other than kexec are idempotent by the hook contract: once the earlier run is gone, run again.
      await this.outlive(record);
      this.log(`${step} ${request.requestId}: the agent that started it is gone; running the hook again`);
    }
    if (step !== 'kexec') return this.step(step, request);
    const issued = this.fence.issuedIn(this.bootId());
    if (issued && issued.requestId !== request.requestId) {
      throw new StepRefusedError(`a kexec (requestId ${issued.requestId}) was already issued in this boot; another needs a new boot`);
    }
    return this.kexec(request);
  }

  private async step(step: Exclude<AgentStep, 'kexec'>, request: StepRequest): Promise<StepOutcome> {
    const startedAt = Date.now();
    const hook = this.started(step, request, startedAt);
    const answer = this.answerOf(step, request, await hook.result);
    this.finish(step, request, startedAt, 200, answer, hook.pgid);
    this.prune();
    this.log(`${step} ${request.requestId}: ${answer.ok ? 'ok' : answer.timedOut ? 'timed out' : `exit ${answer.exitCode}`} in ${answer.durationMs} ms`);
    return { status: 200, answer, repeated: false };
  }

  /**
   * The kexec hook normally never exits (the machine reboots). A non-zero exit within the return
   * window means the reboot syscall returned: nothing happened and the caller rolls back. Anything
   * else is "under way", and only the boot id will tell the caller how it ended.
   */
  private async kexec(request: StepRequest): Promise<StepOutcome> {
    const startedAt = Date.now();
    const running = this.started('kexec', request, startedAt);
    let windowTimer: NodeJS.Timeout | undefined;
    const early = await Promise.race([
      running.result,
      new Promise<undefined>((r) => (windowTimer = setTimeout(() => r(undefined), this.config.kexecReturnWindowMs))),
    ]);
    clearTimeout(windowTimer);
    if (early && !early.ok) {
      const answer: StepAnswer = { ...this.answerOf('kexec', request, early), rebootReturned: true };
      this.finish('kexec', request, startedAt, 200, answer, running.pgid);
      this.fence.lift();
      this.log(`kexec ${request.requestId}: the reboot returned (exit ${early.exitCode})`);
      return { status: 200, answer, repeated: false };
    }
    const answer: StepAnswer = {
      step: 'kexec',
      requestId: request.requestId,
      ok: true,
      exitCode: early?.exitCode ?? null,
      durationMs: Date.now() - startedAt,
      outputTail: early?.outputTail ?? [],
      timedOut: false,
      rebootIssued: true,
    };
    this.finish('kexec', request, startedAt, 202, answer, running.pgid);
    if (!early) {
      // Only for the log: the answer was given; a late failure shows up as the same boot id.
      void running.result.then((late) => this.log(`kexec ${request.requestId}: hook ended after the return window (exit ${late.exitCode}, ok ${late.ok})`));
    }
    this.log(`kexec ${request.requestId}: reboot under way`);
    this.prune();
    return { status: 202, answer, repeated: false };
  }

  /** An earlier agent process started this kexec and died (most likely: the reboot). Never run it twice. */
  private kexecStartedBefore(record: Extract<StepRecord, { state: 'running' }>): StepOutcome {
    const answer: StepAnswer = {
      step: 'kexec',
      requestId: record.requestId,
      ok: true,
      exitCode: null,
      durationMs: Date.now() - record.startedAt,
      outputTail: ['agent: this kexec was started by an earlier agent process; it is not run again'],
      timedOut: false,
      rebootIssued: true,
    };
    this.records.write({ state: 'done', requestId: record.requestId, step: 'kexec', handoverId: record.handoverId, startedAt: record.startedAt, status: 202, answer });
    return { status: 202, answer, repeated: true };
  }

  /** Waits until the hook process group an earlier agent started is gone (killing it at its timeout). */
  private async outlive(record: Extract<StepRecord, { state: 'running' }>): Promise<void> {
    const pgid = record.pgid;
    if (pgid === undefined || record.bootId !== this.bootId()) return;
    const timeoutMs = this.config.hooks[record.step]?.timeoutMs ?? this.config.liveupdate?.kexecTimeoutMs ?? 0;
    const deadline = record.startedAt + timeoutMs;
    while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
    if (!groupAlive(pgid)) return;
    signalGroup(pgid, 'SIGTERM');
    await sleep(this.config.killGraceMs);
    signalGroup(pgid, 'SIGKILL');
  }

  /**
   * Records the step as running and starts its hook (for a kexec, closes the fence first). Nothing
   * is recorded for a request that cannot even be handed to a hook, and a hook that cannot be
   * started leaves no record behind: a retry then runs it rather than believing it ran.
   */
  private started(step: AgentStep, request: StepRequest, startedAt: number) {
    const stdin = JSON.stringify(request);
    const running = {
      state: 'running' as const,
      requestId: request.requestId,
      step,
      handoverId: request.handoverId,
      startedAt,
      bootId: this.bootId(),
      agentInstance: this.instance,
    };
    if (step === 'kexec') this.fence.close({ bootId: running.bootId, requestId: request.requestId, startedAt });
    this.records.write(running);
    let hook: RunningHook;
    try {
      const outputName = `${outputKey(request.requestId)}.${step}`;
      hook = this.liveUpdate && LiveUpdateSteps.performs(step) ? this.liveUpdate.start(step, request, outputName) : this.launch(step, stdin, outputName);
    } catch (err) {
      this.records.remove(request.requestId);
      if (step === 'kexec') this.fence.lift();
      throw err;
    }
    this.records.write({ ...running, pgid: hook.pgid });
    return hook;
  }

  /** Drops old finished records and hook outputs (see state-retention.ts), at most every PRUNE_EVERY_MS. */
  private prune(): void {
    const now = Date.now();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    const busy = new Set([...this.inFlight.keys()].map(outputKey));
    try {
      const removed = pruneStepFiles(this.records.dir, this.outputDir, this.config.retention, busy, now);
      if (removed > 0) this.log(`pruned ${removed} old step records and hook output files`);
    } catch (err) {
      this.log(`pruning step records failed: ${(err as Error).message}`);
    }
  }

  private finish(step: AgentStep, request: StepRequest, startedAt: number, status: 200 | 202, answer: StepAnswer, pgid: number | undefined): void {
    this.records.write({ state: 'done', requestId: request.requestId, step, handoverId: request.handoverId, startedAt, status, answer, pgid });
  }

  private get outputDir(): string {
    return join(this.config.stateDir, 'hook-output');
  }

  private launch(name: HookName, stdin: string, outputName: string, captureStdout = false, hook: HookCommand | undefined = this.config.hooks[name]) {
    // Only the optional hooks (the VM steps', `vms`) may be missing: a host without them cannot stop, start, move or list VMs.
    if (hook === undefined) throw new StepRefusedError(`no ${name} hook is configured on this host`);
    return this.launchCommand(hook, name, stdin, outputName, { captureStdout });
  }

  private launchCommand(hook: HookCommand, name: HookName, stdin: string, outputName: string, options: { captureStdout?: boolean; passFds?: number[] } = {}): RunningHook {
    return startHook({
      hook,
      stdin,
      outputDir: this.outputDir,
      outputName,
      captureStdout: options.captureStdout,
      passFds: options.passFds,
      cwd: this.config.stateDir,
      killGraceMs: this.config.killGraceMs,
      // Only what the operator's config decides; nothing from the request reaches the environment.
      env: {
        PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        LANG: 'C.UTF-8',
        LUO_AGENT_STEP: name,
        LUO_AGENT_HOST_ID: this.config.hostId,
        LUO_AGENT_STATE_DIR: this.config.stateDir,
      },
    });
  }

  private answerOf(step: AgentStep, request: StepRequest, result: HookResult): StepAnswer {
    return {
      step,
      requestId: request.requestId,
      ok: result.ok,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
      outputTail: result.outputTail,
      timedOut: result.timedOut,
    };
  }

  private bootId(): string {
    try {
      return readFileSync(this.config.bootIdPath, 'utf8').trim();
    } catch {
      return 'unknown';
    }
  }

  private conflict(requestId: string, was: AgentStep, now: AgentStep): RequestIdConflictError {
    return new RequestIdConflictError(`requestId ${requestId} was used for ${was}, not ${now}`);
  }
}

/** Names a request's hook output files: sha256(requestId), shortened; the record file has the whole hash. */
function outputKey(requestId: string): string {
  return createHash('sha256').update(requestId).digest('hex').slice(0, 32);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
