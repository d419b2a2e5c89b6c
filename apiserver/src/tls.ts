/**
 * The serving certificate. kubectl sends credentials only over TLS (client-go drops bearer tokens on plain
 * http), so the control plane serves https with a self-signed certificate that the kubeconfig trusts as its CA.
 *
 * And the front proxy's client certificate, as kube-apiserver's --proxy-client-cert-file: the control plane
 * presents it when it passes a request to an extension API server, which believes the X-Remote-User it is told
 * only from a client whose certificate the published requestheader CA signed (here the certificate is its own CA).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface ServingCert {
  cert: string;
  key: string;
}

/** The common name of the front proxy's client certificate, the one requestheader-allowed-names lists. */
export const PROXY_CLIENT_NAME = 'front-proxy-client';

/** A self-signed certificate that is its own CA (so it is what a peer trusts), for `usage`, valid ten years. */
async function selfSignedCa(commonName: string, usage: { serverAuth: true } | { clientAuth: true }, extensions: object[] = []): Promise<ServingCert> {
  const notAfterDate = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', ...usage },
      ...extensions,
    ],
  } as Parameters<typeof generate>[1]);
  return { cert: pems.cert, key: pems.private };
}

export async function generateServingCert(host: string): Promise<ServingCert> {
  const names = new Set(['localhost', '127.0.0.1', '::1', host]);
  const altNames = [...names].map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  // The kubeconfig's certificate-authority-data is this very certificate.
  return selfSignedCa('stratus-apiserver', { serverAuth: true }, [{ name: 'subjectAltName', altNames }]);
}

export const generateProxyClientCert = (): Promise<ServingCert> => selfSignedCa(PROXY_CLIENT_NAME, { clientAuth: true });

/** Loads the pair kept in `dir` as `name`.crt and `name`.key, generating it on first use. */
async function keptIn(dir: string, name: string, generatePair: () => Promise<ServingCert>): Promise<ServingCert> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  if (existsSync(certFile) && existsSync(keyFile)) return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  const pair = await generatePair();
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyFile, pair.key, { mode: 0o600 });
  writeFileSync(certFile, pair.cert);
  return pair;
}

/** Loads the serving certificate kept in `dir`, generating it on first use. */
export const servingCertIn = (dir: string, host: string): Promise<ServingCert> => keptIn(dir, 'serving', () => generateServingCert(host));

/** Loads the front proxy's client certificate kept in `dir`, generating it on first use. */
export const proxyClientCertIn = (dir: string): Promise<ServingCert> => keptIn(dir, 'front-proxy-client', generateProxyClientCert);
