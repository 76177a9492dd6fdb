import 'reflect-metadata';
import { createMetricsApp } from './metrics-app';
import { loadMetricsConfig, MetricsConfigError, type MetricsAppOptions } from './metrics-config';

async function bootstrap(): Promise<void> {
  let options: MetricsAppOptions;
  try {
    options = loadMetricsConfig(process.env);
  } catch (err) {
    if (!(err instanceof MetricsConfigError)) throw err;
    process.stderr.write(`luo-fleet metrics: ${err.message}\n`);
    process.exit(2);
  }
  const { url } = await createMetricsApp(options);
  process.stdout.write(`luo-fleet metrics on ${url}/metrics\n`);
}

void bootstrap();
