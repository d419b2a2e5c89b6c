/**
 * Which uploads may leave SigV4's payload hash out. A signed payload's sha256 is what keeps bytes crossing a
 * network in clear from being changed on the way; S3 computes it again to check. Where TLS carries the bytes, or
 * they never leave the machine (the embedded S3 server is on loopback), a CRC32 checksum (x-amz-checksum-crc32,
 * which S3 verifies too) catches corruption at a quarter of the cost, and the payload is sent as
 * UNSIGNED-PAYLOAD, as the AWS SDKs send streams over TLS. The headers stay signed either way.
 *
 * Measured (Glance bench, 1 GiB upload profiled): the payload's sha256 was a sixth of Glance's hashing time and
 * as much again in the S3 server, which computes it a second time.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { isLoopbackHost } from '../importFilter.js';

/** Whether uploads to this S3 endpoint may carry a CRC32 instead of a signed payload hash. Pure. */
export function crc32MayReplacePayloadHash(endpoint: string): boolean {
  const { protocol, hostname } = new URL(endpoint);
  return protocol === 'https:' || isLoopbackHost(hostname);
}

/**
 * Sends the payload of every request that carries a checksum (its input names a ChecksumAlgorithm) as
 * UNSIGNED-PAYLOAD: the signer takes the header as the payload's hash instead of hashing the body. Requests
 * without a checksum keep their signed sha256.
 */
export function leavePayloadHashToChecksums(s3: S3Client): void {
  s3.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if ((args.input as { ChecksumAlgorithm?: string }).ChecksumAlgorithm && request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'leavePayloadHashToChecksums' },
  );
}
