/**
 * A certificate authority made in the test with openssl, and the certificates Docker's TLS needs:
 * the engine's (server auth, naming its IP address) and a client's (client auth), all signed by it —
 * what `dockerd --tlsverify` and `docker --tlsverify` use. Plus a second, unrelated CA (a wrong
 * one). PEM text and files in a temp folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './system.ts';

export interface TlsMaterial {
  dir: string;
  /** Files, for dockerd's flags. */
  files: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };
  /** PEM text, for the vault. */
  ca: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed none of these. */
  otherCa: string;
}

export function opensslUnavailableReason(): string | null {
  return spawnSync('sh', ['-c', 'command -v openssl'], { stdio: 'ignore' }).status === 0
    ? null
    : 'openssl is not installed (Debian: apt-get install openssl)';
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for `ip`, a client certificate (a few hundred ms). */
export function makeTlsMaterial(ip: string): TlsMaterial {
  const dir = tempDir('drover-tls-');
  const file = (name: string): string => path.join(dir, name);
  const ca = (name: string): void => {
    openssl(
      dir,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
    );
  };
  ca('ca');
  ca('other-ca');
  const sign = (name: string, subject: string, extensions: string): void => {
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    writeFileSync(file(`${name}.ext`), extensions);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  sign('server', '/CN=drover-test-engine', `subjectAltName=IP:${ip},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`);
  sign('client', '/CN=drover-test-client', 'extendedKeyUsage=clientAuth\n');
  const read = (name: string): string => readFileSync(file(name), 'utf8');
  return {
    dir,
    files: {
      ca: file('ca.pem'),
      serverCert: file('server.pem'),
      serverKey: file('server.key'),
      clientCert: file('client.pem'),
      clientKey: file('client.key'),
    },
    ca: read('ca.pem'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    otherCa: read('other-ca.pem'),
  };
}
