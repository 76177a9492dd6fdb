import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { OUTCOMES, progressLine, progressOf, strategyLines, type RolloutView } from './commands/rollout-output';

/** Live view of a running rollout, fed every poll of GET /v1/rollouts/:id. */
export interface RolloutProgress {
  show(view: RolloutView): void;
  /** Ends the display (gives a terminal its cursor back); later calls do nothing. */
  stop(): void;
}

export interface RolloutProgressOptions {
  /** More about the rollout after its status, e.g. the demo's "canary batch 2/3 (5 hosts), 4.2 s". */
  detail?: (view: RolloutView) => string;
  /** Without a terminal: at most one line this often while the rollout runs (default: every change). */
  minLineIntervalMs?: number;
}

/**
 * The progress display of `rollout watch` and the demo: on a terminal one bar per outcome plus in
 * flight, against the rollout's host count, redrawn in place; otherwise a line whenever something changed.
 */
export function rolloutProgress(out: NodeJS.WriteStream, opts: RolloutProgressOptions = {}): RolloutProgress {
  return out.isTTY ? progressBars(out, opts) : progressLines(out, opts);
}

const withDetail = (text: string, view: RolloutView, opts: RolloutProgressOptions, separator: string) =>
  opts.detail ? `${text}${separator}${opts.detail(view)}` : text;

function progressBars(out: NodeJS.WriteStream, opts: RolloutProgressOptions): RolloutProgress {
  const multi = new MultiBar(
    { format: '{label} |{bar}| {value}/{total}', hideCursor: true, clearOnComplete: false, stopOnComplete: false, stream: out, autopadding: true },
    Presets.shades_classic,
  );
  const labels = [...OUTCOMES, 'in flight'];
  let bars: { header: SingleBar; counts: SingleBar[]; strategies: SingleBar[] } | null = null;
  let stopped = false;
  return {
    show(view) {
      if (stopped) return;
      const p = progressOf(view);
      bars ??= {
        header: multi.create(0, 0, { label: '' }, { format: '{label}' }),
        counts: labels.map((label) => multi.create(p.total, 0, { label: label.padEnd(11) })),
        strategies: strategyLines(view).map(() => multi.create(0, 0, { label: '' }, { format: '{label}' })),
      };
      // Hosts by strategy and state, under the bars (the plan fixes which strategies there are).
      strategyLines(view).forEach((line, i) => bars!.strategies[i]?.update(0, { label: `  ${line}` }));
      const status = `rollout ${view.id}: ${view.status}${view.statusReason ? ` (${view.statusReason})` : ''}`;
      bars.header.update(0, { label: withDetail(status, view, opts, ', ') });
      const values = [...OUTCOMES.map((o) => p.byOutcome[o]), p.inflight];
      bars.counts.forEach((bar, i) => {
        bar.setTotal(p.total);
        bar.update(values[i]);
      });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      multi.stop();
    },
  };
}

function progressLines(out: NodeJS.WritableStream, opts: RolloutProgressOptions): RolloutProgress {
  let last = '';
  let lastAt = 0;
  let stopped = false;
  return {
    show(view) {
      if (stopped) return;
      const line = withDetail(progressLine(view), view, opts, '; ');
      const now = Date.now();
      const tooSoon = opts.minLineIntervalMs !== undefined && now - lastAt < opts.minLineIntervalMs && view.finishedAt === undefined;
      if (line === last || tooSoon) return;
      out.write(`${line}\n`);
      last = line;
      lastAt = now;
    },
    stop: () => void (stopped = true),
  };
}
