import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Registry } from 'prom-client';
import { FleetExporter } from './fleet/fleet-exporter';

@Controller()
export class MetricsController {
  constructor(@Inject(FleetExporter) private readonly exporter: FleetExporter) {}

  @Get('metrics')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  metrics(): Promise<string> {
    return this.exporter.render();
  }
}
