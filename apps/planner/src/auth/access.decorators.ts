import { SetMetadata } from '@nestjs/common';
import type { ApiRole } from './auth-tokens';

export const PUBLIC_ROUTE = 'luo-fleet:public';
export const REQUIRED_ROLE = 'luo-fleet:required-role';

/** No token needed (health only). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/**
 * The least role a route needs. Without it, reads (GET, HEAD) need `viewer` and everything else
 * `operator`, so a new mutating route is never open to viewers by accident.
 */
export const Requires = (role: ApiRole) => SetMetadata(REQUIRED_ROLE, role);
