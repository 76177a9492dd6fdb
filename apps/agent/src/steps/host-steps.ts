import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { incomingReportSchema, type AgentStep, type IncomingAnswer, type StepAnswer, type StepRequest } from '@luo-fleet/handover';
import type { AgentConfig, HookName } from '../config/agent-config';
import { groupAlive, signalGroup, startHook, STDOUT_CAP, type HookResult } from '../hooks/hook-process';
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

interface InFlight {
  step: AgentStep;
  outcome: Promise<StepOutcome>;
}

/**
 * Runs the configured hook of each step at most once per requestId (persisted, so it holds across
 * agent restarts). Concurrent requests for one requestId share the first one's run.
 */
export class HostSteps {
  private readonly records: StepRecords;
  private readonly inFlight = new Map<string, InFlight>();
  /** Tells this process's `running` records from those of an agent that died mid-step. */
  private readonly instance = randomBytes(8).toString('hex');

  constructor(
    private readonly config: AgentConfig,
    private readonly log: (message: string) => void = () => {},
  ) {
    this.records = new StepRecords(config.stateDir);
  }

  run(step: AgentStep, request: StepRequest): Promise<StepOutcome> {
    const current = this.inFlight.get(request.requestId);
    if (current) {
      if (current.step !== step) return Promise.reject(this.conflict(request.requestId, current.step, step));
      return current.outcome.then((o) => ({ ...o, repeated: true }));
    }
    const outcome = this.resolve(step, request);
    this.inFlight.set(request.requestId, { step, outcome });
    const forget = () => this.inFlight.delete(request.requestId);
    outcome.then(forget, forget);
    return outcome;
  }

  /** The `incoming` query: a read, run on every call, nothing recorded. */
  async incoming(): Promise<IncomingAnswer> {
    const name = `incoming-${randomBytes(6).toString('hex')}`;
    const result = await this.launch('incoming', JSON.stringify({ hostId: this.config.hostId }), name, true).result;
    // A query leaves nothing worth keeping.
    for (const suffix of ['request.json', 'output', 'stdout']) rmSync(join(this.outputDir, `${name}.${suffix}`), { force: true });
    const base = { exitCode: result.exitCode, outputTail: result.outputTail, timedOut: result.timedOut };
    if (!result.ok) return { ok: false, ...base, problem: 'the incoming hook failed' };
    if (result.stdout === undefined) {
      return { ok: false, ...base, problem: `the incoming hook printed ${result.stdoutBytes} bytes on stdout; an answer has at most ${STDOUT_CAP}` };
    }
    let json: unknown;
    try {
      json = JSON.parse(result.stdout);
    } catch {
      return { ok: false, ...base, problem: 'the incoming hook did not print JSON on stdout' };
    }
    const parsed = incomingReportSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, ...base, problem: `the incoming hook printed ${issue.path.join('.') || 'JSON'}: ${issue.message}` };
    }
    return { ok: true, ...base, incoming: parsed.data.incoming };
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
    return step === 'kexec' ? this.kexec(request) : this.step(step, request);
  }

  private async step(step: Exclude<AgentStep, 'kexec'>, request: StepRequest): Promise<StepOutcome> {
    const startedAt = Date.now();
    const hook = this.started(step, request, startedAt);
    const answer = this.answerOf(step, request, await hook.result);
    this.finish(step, request, startedAt, 200, answer, hook.pgid);
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
    const hook = this.config.hooks[record.step];
    const deadline = record.startedAt + hook.timeoutMs;
    while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
    if (!groupAlive(pgid)) return;
    signalGroup(pgid, 'SIGTERM');
    await sleep(this.config.killGraceMs);
    signalGroup(pgid, 'SIGKILL');
  }

  private started(step: AgentStep, request: StepRequest, startedAt: number) {
    const running = {
      state: 'running' as const,
      requestId: request.requestId,
      step,
      handoverId: request.handoverId,
      startedAt,
      bootId: this.bootId(),
      agentInstance: this.instance,
    };
    this.records.write(running);
    const name = `${createHash('sha256').update(request.requestId).digest('hex').slice(0, 32)}.${step}`;
    const hook = this.launch(step, JSON.stringify(request), name);
    this.records.write({ ...running, pgid: hook.pgid });
    return hook;
  }

  private finish(step: AgentStep, request: StepRequest, startedAt: number, status: 200 | 202, answer: StepAnswer, pgid: number | undefined): void {
    this.records.write({ state: 'done', requestId: request.requestId, step, handoverId: request.handoverId, startedAt, status, answer, pgid });
  }

  private get outputDir(): string {
    return join(this.config.stateDir, 'hook-output');
  }

  private launch(name: HookName, stdin: string, outputName: string, captureStdout = false) {
    return startHook({
      hook: this.config.hooks[name],
      stdin,
      outputDir: this.outputDir,
      outputName,
      captureStdout,
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
