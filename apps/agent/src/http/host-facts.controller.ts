import { Controller, Get, Inject } from '@nestjs/common';
import { readSysfsTopology, type HostTopology } from '@luo-fleet/topology';
import type { IdentityAnswer, IncomingAnswer, VmsAnswer } from '@luo-fleet/handover';
import { readHostIdentity } from '../identity/host-identity';
import type { HostSteps } from '../steps/host-steps';
import { AGENT_CONFIG, HOST_STEPS, type AgentConfig } from './agent-options';

/** What the host is: read fresh on every request, never cached (a kexec or a hot-plug changes it). */
@Controller('v1')
export class HostFactsController {
  constructor(
    @Inject(AGENT_CONFIG) private readonly config: AgentConfig,
    @Inject(HOST_STEPS) private readonly steps: HostSteps,
  ) {}

  @Get('identity')
  identity(): IdentityAnswer {
    return readHostIdentity(this.config);
  }

  @Get('topology')
  topology(): Promise<HostTopology> {
    return readSysfsTopology(this.config.sysfsRoot);
  }

  /** Devices the running kernel received preserved, as the `incoming` hook reports them. */
  @Get('incoming')
  incoming(): Promise<IncomingAnswer> {
    return this.steps.incoming();
  }

  /** The host's VMs, as the `vms` hook reports them (`configured: false` without one). */
  @Get('vms')
  vms(): Promise<VmsAnswer> {
    return this.steps.vms();
  }
}
