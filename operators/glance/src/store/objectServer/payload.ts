/**
 * What S3 checks of a request body before it keeps it: the payload hash SigV4 signed (x-amz-content-sha256),
 * Content-MD5, an x-amz-checksum-* header or trailer, and the length announced. Bodies in aws-chunked
 * encoding (what the AWS SDKs send for streams: STREAMING-UNSIGNED-PAYLOAD-TRAILER) are decoded here.
 * Every pass hands the same buffers on, never a copy.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { streamed } from '../youngGarbage.js';
import { S3Error } from './s3Errors.js';

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const CHECKSUMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
type ChecksumName = (typeof CHECKSUMS)[number];
/** The checksums this server can verify; the others are refused rather than stored unchecked. */
const VERIFIED = new Set<ChecksumName>(['crc32', 'sha1', 'sha256']);

export interface PayloadRules {
  /** aws-chunked framing to strip. */
  chunked: boolean;
  /** The body's length once decoded, when the request says it. */
  length?: number;
  /** The sha256 SigV4 signed, hex. */
  sha256?: string;
  /** Content-MD5, base64. */
  md5?: string;
  /** The x-amz-checksum-* to verify: its value now, or in the trailer. */
  checksum?: { name: ChecksumName; value?: string; inTrailer: boolean };
}

/** How a request's body must be read and checked, from its headers; refuses what this server cannot check. Pure. */
export function payloadRules(headers: IncomingHttpHeaders): PayloadRules {
  const declared = String(headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD');
  const chunked = declared.startsWith('STREAMING-');
  if (chunked && declared !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
    throw new S3Error(501, 'NotImplemented', `x-amz-content-sha256 ${declared} (signed chunks) is not implemented by this server; send the payload's sha256, UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER`);
  if (!chunked && declared !== 'UNSIGNED-PAYLOAD' && !HEX_SHA256.test(declared))
    throw new S3Error(400, 'InvalidArgument', `x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a hex sha256, not ${declared}`);
  const lengthHeader = chunked ? headers['x-amz-decoded-content-length'] : headers['content-length'];
  const length = lengthHeader === undefined ? undefined : Number(lengthHeader);
  if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0))
    throw new S3Error(400, 'InvalidArgument', `${chunked ? 'x-amz-decoded-content-length' : 'content-length'} is not a length: ${lengthHeader}`);
  const trailer = String(headers['x-amz-trailer'] ?? '').trim().toLowerCase();
  const named = CHECKSUMS.find((n) => headers[`x-amz-checksum-${n}`] !== undefined || trailer === `x-amz-checksum-${n}`);
  if (trailer && !named) throw new S3Error(400, 'InvalidRequest', `the trailer ${trailer} is not a checksum this server knows`);
  if (named && !VERIFIED.has(named)) throw new S3Error(501, 'NotImplemented', `x-amz-checksum-${named} is not verified by this server; use CRC32, SHA1 or SHA256`);
  const md5 = headers['content-md5'] === undefined ? undefined : String(headers['content-md5']);
  return {
    chunked,
    ...(length !== undefined ? { length } : {}),
    ...(HEX_SHA256.test(declared) ? { sha256: declared } : {}),
    ...(md5 !== undefined ? { md5 } : {}),
    ...(named ? { checksum: { name: named, inTrailer: trailer === `x-amz-checksum-${named}`, ...(headers[`x-amz-checksum-${named}`] !== undefined ? { value: String(headers[`x-amz-checksum-${named}`]) } : {}) } } : {}),
  };
}

/** Strips aws-chunked framing (`hex-size[;ext]\r\n data \r\n` … `0\r\n` trailers `\r\n`), keeping the trailers. */
export class AwsChunkedDecoder extends Transform {
  readonly trailers: Record<string, string> = {};
  private state: 'size' | 'data' | 'dataEnd' | 'trailer' | 'done' = 'size';
  private line = '';
  private left = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    let at = 0;
    try {
      while (at < chunk.length) {
        if (this.state === 'data') {
          const n = Math.min(this.left, chunk.length - at);
          this.push(chunk.subarray(at, at + n));
          at += n;
          this.left -= n;
          if (this.left === 0) this.state = 'dataEnd';
          continue;
        }
        if (this.state === 'done') throw new S3Error(400, 'IncompleteBody', 'data after the last aws-chunked chunk');
        const nl = chunk.indexOf(10, at);
        this.line += chunk.toString('latin1', at, nl < 0 ? chunk.length : nl + 1);
        at = nl < 0 ? chunk.length : nl + 1;
        if (this.line.length > 4096) throw new S3Error(400, 'IncompleteBody', 'an aws-chunked line is too long');
        if (nl >= 0) this.lineDone(this.line.replace(/\r?\n$/, ''));
      }
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  private lineDone(line: string) {
    this.line = '';
    if (this.state === 'dataEnd') {
      if (line !== '') throw new S3Error(400, 'IncompleteBody', 'an aws-chunked chunk is longer than its size says');
      this.state = 'size';
    } else if (this.state === 'size') {
      const size = /^([0-9a-fA-F]{1,16})(;.*)?$/.exec(line);
      if (!size) throw new S3Error(400, 'IncompleteBody', `not an aws-chunked chunk size: ${line.slice(0, 40)}`);
      this.left = parseInt(size[1], 16);
      this.state = this.left === 0 ? 'trailer' : 'data';
    } else if (line === '') {
      this.state = 'done';
    } else {
      const colon = line.indexOf(':');
      if (colon < 1) throw new S3Error(400, 'IncompleteBody', 'a malformed aws-chunked trailer');
      this.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
  }

  override _flush(done: TransformCallback) {
    done(this.state === 'done' || (this.state === 'trailer' && this.line === '') ? null : new S3Error(400, 'IncompleteBody', 'the aws-chunked body ended before its last chunk'));
  }
}

/** Hashes what passes: md5 always (the ETag), and what the rules ask to verify. */
export class PayloadDigests extends Transform {
  readonly md5: Hash = createHash('md5');
  private readonly sha256?: Hash;
  private readonly checksumHash?: Hash;
  private crc = 0;
  bytes = 0;

  constructor(private readonly rules: PayloadRules) {
    super();
    if (rules.sha256) this.sha256 = createHash('sha256');
    const name = rules.checksum?.name;
    if (name === 'sha1' || name === 'sha256') this.checksumHash = createHash(name);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.bytes += chunk.length;
    if (this.rules.length !== undefined && this.bytes > this.rules.length) return done(new S3Error(400, 'IncompleteBody', `the body is longer than the ${this.rules.length} bytes announced`));
    this.md5.update(chunk);
    this.sha256?.update(chunk);
    if (this.checksumHash) this.checksumHash.update(chunk);
    else if (this.rules.checksum?.name === 'crc32') this.crc = crc32(chunk, this.crc);
    streamed(chunk.length);
    done(null, chunk);
  }

  /** The body's md5 (binary) once every check passed; throws the S3 error of the first that did not. */
  verdict(trailers: Record<string, string> = {}): Buffer {
    const { length, sha256, md5, checksum } = this.rules;
    if (length !== undefined && this.bytes !== length) throw new S3Error(400, 'IncompleteBody', `You did not provide the number of bytes specified by the Content-Length HTTP header (${this.bytes} of ${length})`);
    const digest = this.md5.digest();
    if (md5 !== undefined && md5 !== digest.toString('base64')) throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    if (sha256 && this.sha256!.digest('hex') !== sha256) throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    if (checksum) {
      const expected = checksum.value ?? trailers[`x-amz-checksum-${checksum.name}`];
      if (expected === undefined) throw new S3Error(400, 'InvalidRequest', `the x-amz-checksum-${checksum.name} trailer is missing`);
      const got = this.checksumHash ? this.checksumHash.digest('base64') : crc32Base64(this.crc);
      if (got !== expected) throw new S3Error(400, 'BadDigest', `The ${checksum.name.toUpperCase()} you specified did not match the calculated checksum.`);
    }
    return digest;
  }
}

const crc32Base64 = (crc: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc >>> 0);
  return b.toString('base64');
};
