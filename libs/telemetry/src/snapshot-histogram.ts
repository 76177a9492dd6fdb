import { Histogram as PromHistogram, type MetricObjectWithValues, type MetricValueWithName } from 'prom-client';
import type { Histogram } from './fleet-stats';

/** One labelled series of a snapshot histogram. */
export interface HistogramSeries {
  labels: Record<string, string>;
  histogram: Histogram;
}

/**
 * A prom-client histogram whose content is replaced wholesale from a snapshot instead of being
 * observed: the exporter's counts come from Redis, summed over every worker, so there is nothing
 * to observe locally. Registered like any prom-client metric; the registry reads `get()`.
 */
export class SnapshotHistogram<T extends string> extends PromHistogram<T> {
  private series: HistogramSeries[] = [];
  private readonly bounds: number[];

  constructor(private readonly config: { name: string; help: string; labelNames?: readonly T[]; buckets: number[] }) {
    super({ ...config, registers: [] });
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  setSeries(series: HistogramSeries[]): void {
    this.series = series;
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    const { name, help } = this.config;
    const values = this.series.flatMap((s) => exposition(name, this.bounds, s) as MetricValueWithName<T>[]);
    // The typings declare `type` as a numeric enum; the registry prints the string the runtime uses.
    const type = 'histogram' as unknown as MetricObjectWithValues<MetricValueWithName<T>>['type'];
    return { name, help, type, aggregator: 'sum', collect: () => undefined, values };
  }

  /** prom-client's registry prefers this method when present. */
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    return this.get();
  }
}

/**
 * The stored buckets are non-cumulative (one HINCRBY per observation, into the first bound that
 * holds it); the exposition format wants each `le` to count everything at or below it. Summing by
 * numeric bound also places counts under bounds this build no longer lists.
 */
export function cumulativeBuckets(bounds: number[], histogram: Histogram): { le: string; count: number }[] {
  const stored = [...histogram.buckets.entries()].map(([le, n]) => ({ le: le === '+Inf' ? Infinity : Number(le), n }));
  const upTo = (bound: number) => stored.filter((s) => s.le <= bound).reduce((acc, s) => acc + s.n, 0);
  return [...bounds.map((b) => ({ le: String(b), count: upTo(b) })), { le: '+Inf', count: upTo(Infinity) }];
}

function exposition(name: string, bounds: number[], s: HistogramSeries): MetricValueWithName<string>[] {
  const buckets = cumulativeBuckets(bounds, s.histogram).map((b) => ({
    metricName: `${name}_bucket`,
    labels: { ...s.labels, le: b.le },
    value: b.count,
  }));
  return [
    ...buckets,
    { metricName: `${name}_sum`, labels: s.labels, value: s.histogram.sumSeconds },
    { metricName: `${name}_count`, labels: s.labels, value: s.histogram.count },
  ];
}
