import { setTimeout as sleep } from 'node:timers/promises';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { ApiUnreachable, type ApiClient } from '../api-client';
import { OUTCOMES, progressLine, progressOf, statusSummary, type RolloutView } from './rollout-output';

/** A planner restart or a network blip should not end a watch of a rollout that runs for hours. */
const MAX_MISSED_POLLS = 10;

interface Display {
  show(view: RolloutView): void;
  stop(): void;
}

/** One bar per outcome plus in flight, against the rollout's host count, redrawn in place. */
function barsDisplay(out: NodeJS.WriteStream): Display {
  const multi = new MultiBar(
    { format: '{label} |{bar}| {value}/{total}', hideCursor: true, clearOnComplete: false, stopOnComplete: false, stream: out, autopadding: true },
    Presets.shades_classic,
  );
  const labels = [...OUTCOMES, 'in flight'];
  let bars: SingleBar[] | null = null;
  let header: SingleBar | null = null;
  return {
    show(view) {
      const p = progressOf(view);
      if (bars === null) {
        header = multi.create(0, 0, { label: '' }, { format: '{label}' });
        bars = labels.map((label) => multi.create(p.total, 0, { label: label.padEnd(11) }));
      }
      header!.update(0, { label: `rollout ${view.id}: ${view.status}${view.statusReason ? ` (${view.statusReason})` : ''}` });
      const values = [...OUTCOMES.map((o) => p.byOutcome[o]), p.inflight];
      bars.forEach((bar, i) => {
        bar.setTotal(p.total);
        bar.update(values[i]);
      });
    },
    stop: () => multi.stop(),
  };
}

/** Not a terminal (a log, CI): a line whenever something changed. */
function linesDisplay(out: NodeJS.WritableStream): Display {
  let last = '';
  return {
    show(view) {
      const line = progressLine(view);
      if (line !== last) out.write(`${line}\n`);
      last = line;
    },
    stop: () => undefined,
  };
}

/**
 * Follows a rollout until it has finished (every host has an outcome and none is in flight).
 * Returns the exit code: 0 when it completed, 1 when it ended halted, aborted or expired.
 */
export async function watchRollout(client: ApiClient, id: string, opts: { intervalMs: number; out?: NodeJS.WriteStream }): Promise<number> {
  const out = opts.out ?? process.stdout;
  const display = out.isTTY ? barsDisplay(out) : linesDisplay(out);
  const path = `/v1/rollouts/${encodeURIComponent(id)}`;
  let missed = 0;
  let view: RolloutView;
  try {
    for (;;) {
      try {
        view = await client.get<RolloutView>(path);
        missed = 0;
      } catch (err) {
        if (!(err instanceof ApiUnreachable) || ++missed >= MAX_MISSED_POLLS) throw err;
        await sleep(opts.intervalMs);
        continue;
      }
      display.show(view);
      if (view.finishedAt !== undefined) break;
      await sleep(opts.intervalMs);
    }
  } finally {
    display.stop();
  }
  out.write(`${statusSummary(view)}\n`);
  return view.status === 'completed' ? 0 : 1;
}
