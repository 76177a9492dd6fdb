import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { RolloutStatusView } from './planner-client';

/** Host outcomes of design 4.2, in the order the demo shows them. */
export const OUTCOMES = ['updated', 'rolled_back', 'failed', 'skipped', 'cancelled'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const OUTCOME_LABEL: Record<Outcome, string> = {
  updated: 'updated',
  rolled_back: 'rolled back',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
};

/** Live view of a running rollout, fed every poll of GET /v1/rollouts/:id. */
export interface RolloutProgress {
  update(view: RolloutStatusView, elapsedMs: number): void;
  stop(): void;
}

/** "canary batch 2/4 (5 hosts)" or "last batch 4/4 (394 hosts, the rest of the fleet)". */
export function describeBatch(view: RolloutStatusView): string {
  const batches = view.limits.batches;
  const index = Math.min(view.batch, batches.length - 1);
  const size = batches[index] ?? 0;
  const hosts = `${size} host${size === 1 ? '' : 's'}`;
  if (batches.length <= 1) return `one batch (${hosts})`;
  return index < batches.length - 1 ? `canary batch ${index + 1}/${batches.length} (${hosts})` : `last batch ${index + 1}/${batches.length} (${hosts}, the rest)`;
}

const LABEL_WIDTH = 11;

/** One bar per outcome and one for hosts in flight against maxConcurrent (a TTY). */
export class RolloutProgressBars implements RolloutProgress {
  private readonly bars: MultiBar;
  private readonly header: SingleBar;
  private readonly outcomeBars = new Map<Outcome, SingleBar>();
  private readonly inflightBar: SingleBar;

  constructor(stream: NodeJS.WriteStream, view: RolloutStatusView) {
    this.bars = new MultiBar(
      {
        stream,
        format: '  {label} {bar} {value}/{total}',
        barsize: 40,
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
        fps: 10,
      },
      Presets.shades_classic,
    );
    this.header = this.bars.create(1, 0, { text: '' }, { format: '  {text}' });
    for (const outcome of OUTCOMES) {
      this.outcomeBars.set(outcome, this.bars.create(view.hostCount, 0, { label: OUTCOME_LABEL[outcome].padEnd(LABEL_WIDTH) }));
    }
    this.inflightBar = this.bars.create(view.limits.maxConcurrent, 0, { label: 'in flight'.padEnd(LABEL_WIDTH) });
  }

  update(view: RolloutStatusView, elapsedMs: number): void {
    this.header.update(0, { text: `rollout ${view.status}, ${describeBatch(view)}, ${(elapsedMs / 1000).toFixed(1)} s` });
    for (const [outcome, bar] of this.outcomeBars) bar.update(view.hostsByState[outcome] ?? 0);
    this.inflightBar.update(Math.min(view.inflight, view.limits.maxConcurrent));
  }

  private stopped = false;

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.bars.stop(); // shows the cursor again
  }
}

/** Plain lines (not a TTY): one every few seconds while something changes. */
export class RolloutProgressLines implements RolloutProgress {
  private last = '';
  private lastAt = 0;

  constructor(private readonly write: (line: string) => void) {}

  update(view: RolloutStatusView, elapsedMs: number): void {
    const counts = OUTCOMES.map((o) => `${OUTCOME_LABEL[o]} ${view.hostsByState[o] ?? 0}`).join(', ');
    const line = `rollout ${view.status}, ${describeBatch(view)}: ${counts}; in flight ${view.inflight}/${view.limits.maxConcurrent}`;
    const now = Date.now();
    if (line === this.last || (now - this.lastAt < 2_000 && view.finishedAt === undefined)) return;
    this.last = line;
    this.lastAt = now;
    this.write(`[${(elapsedMs / 1000).toFixed(1).padStart(5)} s] ${line}`);
  }

  stop(): void {}
}
