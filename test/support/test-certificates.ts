import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/**
 * Test certificates made by openssl in `dir`: a self-signed CA `ca` (unless `makeCa` is false,
 * when `ca` already exists there) and a certificate `leaf` it signs for `cn`, valid for 127.0.0.1
 * and localhost; PEM files `<name>.crt` and `<name>.key`, valid two days.
 */
export function issueCertificate(dir: string, ca: string, leaf: string, cn: string, makeCa = true): void {
  if (makeCa) openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${ca}`, '-keyout', `${ca}.key`, '-out', `${ca}.crt`);
  writeFileSync(join(dir, `${leaf}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`);
  openssl(dir, 'x509', '-req', '-in', `${leaf}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${leaf}.ext`, '-out', `${leaf}.crt`);
}
