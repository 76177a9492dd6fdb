import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { SysfsError } from '@luo-fleet/topology';
import { IdentityUnreadableError } from '../identity/host-identity';
import { RequestIdConflictError, StepRefusedError } from '../steps/host-steps';

interface JsonReply {
  headersSent: boolean;
  status(code: number): JsonReply;
  json(body: unknown): unknown;
}

/**
 * Every error leaves as JSON; a host that cannot read its own sysfs or boot id says so (503), and
 * anything unexpected is a 500 whose body names nothing internal (the stack goes to the log).
 */
@Catch()
export class AgentErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('AgentErrorFilter');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<JsonReply>();
    const req = host.switchToHttp().getRequest<{ method?: string; originalUrl?: string }>();
    let status: number;
    let body: unknown;
    if (err instanceof HttpException) {
      status = err.getStatus();
      const response = err.getResponse();
      body = typeof response === 'object' ? response : { statusCode: status, error: 'Error', message: String(response) };
    } else if (err instanceof RequestIdConflictError) {
      status = 409;
      body = { statusCode: 409, error: 'Conflict', message: `requestId: ${err.message}`, issues: [{ field: 'requestId', problem: err.message }] };
    } else if (err instanceof StepRefusedError) {
      status = 409;
      body = { statusCode: 409, error: 'Conflict', message: err.message };
    } else if (err instanceof SysfsError || err instanceof IdentityUnreadableError) {
      status = 503;
      body = { statusCode: 503, error: 'Service Unavailable', message: err.message };
    } else {
      this.logger.error(`${req.method} ${req.originalUrl}: ${(err as Error)?.stack ?? String(err)}`);
      status = 500;
      body = { statusCode: 500, error: 'Internal Server Error', message: 'internal error; the agent log has the details' };
    }
    if (res.headersSent) return;
    res.status(status).json(body);
  }
}
