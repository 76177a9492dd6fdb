import { describe, expect, it } from 'vitest';
import { UnknownProfileError } from '@luo-fleet/preservation';
import { FaultProfileError } from '@luo-fleet/simulated-host';
import { HostNotFoundError, SelectorError } from '@luo-fleet/store';
import { TopologyValidationError } from '@luo-fleet/topology';
import { RolloutInputError } from '../rollouts/rollout-creation';
import { MalformedBody } from './api-error';
import { apiErrorFor } from './api-exception.filter';

const fieldsOf = (err: Error) => apiErrorFor(err)?.issues?.map((i) => i.field);

describe('domain errors answered from one table', () => {
  it('answers a wrong input with a 400 naming its field', () => {
    expect(fieldsOf(new UnknownProfileError('nope', ['singleton-group']))).toEqual(['profile']);
    expect(fieldsOf(new SelectorError('a in', 'expected a value list'))).toEqual(['selector']);
    expect(fieldsOf(new RolloutInputError('selector', 'matches no host'))).toEqual(['selector']);
    expect(fieldsOf(new FaultProfileError('simulatedFaults.pHang', 'at most 1'))).toEqual(['simulatedFaults.pHang']);
    expect(fieldsOf(new TopologyValidationError([{ path: 'devices[3].bdf', problem: 'bad' }]))).toEqual(['topology.devices.3.bdf']);
    expect(fieldsOf(new MalformedBody(400, 'malformed JSON'))).toEqual(['body']);
  });

  it('gives every 400 the same shape, whichever route threw it', () => {
    expect(apiErrorFor(new UnknownProfileError('nope', ['singleton-group']))).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'invalid input: profile: unknown rule profile "nope" (known: singleton-group)',
      issues: [{ field: 'profile', problem: 'unknown rule profile "nope" (known: singleton-group)' }],
    });
  });

  it('answers other statuses as the table says', () => {
    expect(apiErrorFor(new HostNotFoundError('hv-1'))).toEqual({ statusCode: 404, error: 'Not Found', message: 'host hv-1 is not in the inventory' });
    expect(apiErrorFor(new MalformedBody(413, 'request entity too large'))).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'request entity too large' });
    expect(apiErrorFor(new Error('boom'))).toBeNull();
  });
});
