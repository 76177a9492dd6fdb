import { resolve } from 'node:path';

const here = resolve(__dirname, '../../..');
/** The repository, whether this runs from sources (vitest) or from dist/ (the kernel bench). */
export const REPO_ROOT = here.endsWith('/dist') ? resolve(here, '..') : here;
/** What runs inside the guest: init.sh, boot.sh, the stand-in VM and the VMM hooks (not compiled). */
export const GUEST_DIR = resolve(REPO_ROOT, 'test/kernel/guest');
