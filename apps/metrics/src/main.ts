import 'reflect-metadata';
import { createMetricsApp } from './metrics-app';
import { loadMetricsConfig, type MetricsAppOptions } from './metrics-config';

async function bootstrap(): Promise<void> {
  let options: MetricsAppOptions;
  try {
    options = loadMetricsConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const { url } = await createMetricsApp(options);
  process.stdout.write(`luo-fleet metrics on ${url}/metrics\n`);
}

void bootstrap();
