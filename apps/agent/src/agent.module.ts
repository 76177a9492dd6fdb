import { Module, type DynamicModule } from '@nestjs/common';
import type { AgentConfig } from './config/agent-config';
import { AGENT_CONFIG, HOST_STEPS } from './http/agent-options';
import { HostFactsController } from './http/host-facts.controller';
import { StepsController } from './http/steps.controller';
import { HostSteps } from './steps/host-steps';

@Module({})
export class AgentModule {
  static forConfig(config: AgentConfig, hostSteps: HostSteps): DynamicModule {
    return {
      module: AgentModule,
      controllers: [HostFactsController, StepsController],
      providers: [
        { provide: AGENT_CONFIG, useValue: config },
        { provide: HOST_STEPS, useValue: hostSteps },
      ],
    };
  }
}
