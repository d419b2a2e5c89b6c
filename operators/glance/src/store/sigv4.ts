/**
 * Checks that a request to the embedded S3 server is signed (AWS Signature Version 4, in the Authorization
 * header) with the server's credentials. s3rver lets unsigned requests through as anonymous and does not check
 * V4 signatures at all; this does, by signing the request again as the client must have (the smithy signer
 * the AWS SDK itself uses canonicalizes it) and comparing the signatures in constant time.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** SHA-256, or HMAC-SHA-256 when given a key: what the signer needs, from node:crypto. */
type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data) => (typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength));

export class Sha256 {
  private readonly hash;
  constructor(secret?: Data) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/s3\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** Why the request is not signed with `creds`, or undefined when it is. */
export async function sigV4Refusal(req: { method: string; url: string; headers: IncomingHttpHeaders }, creds: S3Credentials): Promise<string | undefined> {
  const auth = req.headers.authorization;
  if (!auth) return 'the request is not signed';
  const m = AUTH.exec(auth);
  if (!m) return 'the request is not signed with AWS Signature Version 4 in the Authorization header';
  const [, keyId, day, region, signedHeaders, signature] = m;
  if (keyId !== creds.accessKeyId) return 'the access key is not this server’s';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when || amzDate.slice(0, 8) !== day) return 'the request has no valid x-amz-date';
  const signingDate = new Date(Date.UTC(+when[1], +when[2] - 1, +when[3], +when[4], +when[5], +when[6]));
  // S3's own bound: a signature more than 15 minutes from now is refused (a replayed request, say).
  if (Math.abs(Date.now() - signingDate.getTime()) > 15 * 60_000) return 'the request time is more than 15 minutes off';
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return 'the host header is not signed';
  const headers: Record<string, string> = {};
  for (const n of names) {
    const v = req.headers[n];
    if (v === undefined) return `the signed header ${n} is missing`;
    headers[n] = Array.isArray(v) ? v.join(',') : v;
  }
  const [rawPath, rawQuery = ''] = req.url.split('?', 2);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) query[k] = k in query ? [...[query[k]].flat(), v] : v;
  const signer = new SignatureV4({ service: 's3', region, credentials: creds, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const signed = await signer.sign(
    { method: req.method, protocol: 'http:', hostname: headers.host.replace(/:\d+$/, ''), path: rawPath, query, headers },
    { signingDate, signingRegion: region, signingService: 's3', signableHeaders: new Set(names) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization))?.[1] ?? '';
  return expected.length === 64 && timingSafeEqual(Buffer.from(expected), Buffer.from(signature)) ? undefined : 'the signature does not match';
}
