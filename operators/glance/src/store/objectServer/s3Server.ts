/**
 * An S3 server over ObjectFiles: path-style requests (`/bucket/key`), each signed with AWS Signature Version 4
 * by the server's one key pair, answering the calls Stratus and common clients make as S3 documents them:
 * buckets (list, create, head, delete), objects (put, get with a range, head, delete, list v1/v2), multipart
 * uploads (create, upload part, list parts, complete, abort, list uploads) and DeleteObjects. Anything else is
 * 501 NotImplemented, never a guess.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { XMLParser } from 'fast-xml-parser';
import { sigV4Refusal, type S3Credentials } from '../sigv4.js';
import { ObjectFiles, type ListResult, type ObjectInfo } from './objectFiles.js';
import { importS3rverFolders } from './s3rverImport.js';
import { AwsChunkedDecoder, PayloadDigests, payloadRules } from './payload.js';
import { rangeOf } from './ranges.js';
import { S3Error, XML_HEAD, errorXml, xmlText } from './s3Errors.js';

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
/** S3's limit for one PUT; larger objects go in multipart uploads. */
const MAX_PUT_BYTES = 5 * 1024 ** 3;
const MAX_XML_BYTES = 1024 * 1024;
const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'Part' || name === 'Object' });

export interface S3Server {
  endpoint: string;
  /** Writes `head` and then bytes start..end of an object to a client's connection handed over to it, and closes it (see HandedRead). */
  writeHanded(socket: Socket, head: string, read: HandedRead): Promise<void>;
  close(): Promise<void>;
}

/** What Glance asks the S3 server to send on a connection it handed over (runtime's RESPONSE_MESSAGE). */
export interface HandedRead {
  bucket: string;
  key: string;
  /** The whole object's size as the image holds it: a stored object of another size is not sent. */
  size: number;
  start: number;
  end: number;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  bucket: string;
  key: string;
  query: URLSearchParams;
}

export async function startS3Server(opts: { directory: string; host: string; port: number; credentials: S3Credentials; buckets?: string[] }): Promise<S3Server> {
  mkdirSync(opts.directory, { recursive: true, mode: 0o700 });
  importS3rverFolders(opts.directory);
  const files = ObjectFiles.open(opts.directory);
  for (const name of opts.buckets ?? []) files.createBucket(name);
  const server: Server = createServer({ highWaterMark: 1024 * 1024 }, (req, res) => void serve(files, opts.credentials, req, res));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port, opts.host, () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    writeHanded: (socket, head, read) => writeHanded(files, socket, head, read),
    close: () => new Promise((resolve) => (server.close(() => resolve()), server.closeAllConnections())),
  };
}

async function serve(files: ObjectFiles, credentials: S3Credentials, req: IncomingMessage, res: ServerResponse) {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  res.setHeader('x-amz-request-id', requestId);
  const url = req.url ?? '/';
  const [path, rawQuery = ''] = url.split('?', 2);
  try {
    const refused = await sigV4Refusal({ method: req.method ?? 'GET', url, headers: req.headers }, credentials);
    if (refused) throw new S3Error(403, refused.includes('access key') ? 'InvalidAccessKeyId' : refused.includes('signature does not match') ? 'SignatureDoesNotMatch' : 'AccessDenied', `Access Denied: ${refused}`);
    const slash = path.indexOf('/', 1);
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
      }
    };
    const call: Call = { req, res, bucket: decode(slash < 0 ? path.slice(1) : path.slice(1, slash)), key: slash < 0 ? '' : decode(path.slice(slash + 1)), query: new URLSearchParams(rawQuery) };
    await route(files, call);
  } catch (e) {
    const err = e instanceof S3Error ? e : new S3Error(500, 'InternalError', `We encountered an internal error. Please try again. (${(e as Error)?.message ?? e})`);
    if (res.headersSent) return void res.destroy(err);
    const body = req.method === 'HEAD' ? '' : errorXml(err, path, requestId);
    res.writeHead(err.status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) }).end(body);
    // An unread body would be taken as the next request on this connection.
    if (!req.complete) req.resume();
  }
}

function route(files: ObjectFiles, c: Call): Promise<void> | void {
  const { req, bucket, key, query } = c;
  const m = req.method;
  if (!bucket) {
    if (m === 'GET') return listBuckets(files, c);
    throw notImplemented(c);
  }
  if (!key) {
    if (m === 'PUT' && query.size === 0) return drainThen(c, () => (files.createBucket(bucket), reply(c, 200, '', { Location: `/${bucket}` })));
    if (m === 'HEAD') return files.hasBucket(bucket) ? reply(c, 200, '') : reply(c, 404, '');
    if (m === 'DELETE' && query.size === 0) return (files.deleteBucket(bucket), reply(c, 204, ''));
    if (m === 'GET' && query.has('uploads')) return listUploads(files, c);
    if (m === 'GET' && query.has('location') && files.hasBucket(bucket)) return reply(c, 200, `${XML_HEAD}<LocationConstraint ${NS}></LocationConstraint>`);
    if (m === 'GET' && [...query.keys()].every((k) => LIST_PARAMS.has(k))) return listObjects(files, c);
    if (m === 'POST' && query.has('delete')) return deleteObjects(files, c);
    throw notImplemented(c);
  }
  const uploadId = query.get('uploadId');
  if (m === 'PUT' && uploadId !== null && query.has('partNumber') && !req.headers['x-amz-copy-source']) return uploadPart(files, c, uploadId);
  if (m === 'PUT' && [...query.keys()].every((k) => k === 'x-id') && !req.headers['x-amz-copy-source']) return putObject(files, c);
  if ((m === 'GET' || m === 'HEAD') && uploadId === null && onlyObjectReadParams(query)) return getObject(files, c);
  if (m === 'DELETE' && uploadId !== null) return files.abortUpload(bucket, key, uploadId).then(() => reply(c, 204, ''));
  if (m === 'DELETE' && onlyObjectReadParams(query)) return files.deleteObject(bucket, key).then(() => reply(c, 204, ''));
  if (m === 'POST' && query.has('uploads')) return createUpload(files, c);
  if (m === 'POST' && uploadId !== null) return completeUpload(files, c, uploadId);
  if (m === 'GET' && uploadId !== null) return listParts(files, c, uploadId);
  throw notImplemented(c);
}

const LIST_PARAMS = new Set(['list-type', 'prefix', 'delimiter', 'max-keys', 'continuation-token', 'start-after', 'marker', 'encoding-type', 'fetch-owner', 'x-id']);
/** GET/HEAD/DELETE on an object with no subresource (versionId of the null version only: no versioning here). */
const onlyObjectReadParams = (q: URLSearchParams) => [...q.keys()].every((k) => k === 'x-id' || k.startsWith('response-') || (k === 'versionId' && q.get(k) === 'null'));
const notImplemented = (c: Call) => new S3Error(501, 'NotImplemented', `A header or query you provided implies functionality that is not implemented: ${c.req.method} ${c.req.url?.split('?')[0]}${c.query.size ? `?${[...c.query.keys()].join('&')}` : ''}`);

function reply(c: Call, status: number, body: string, headers: Record<string, string | number> = {}) {
  if (body) headers['Content-Type'] = 'application/xml';
  c.res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) }).end(c.req.method === 'HEAD' ? undefined : body);
}

async function drainThen(c: Call, then: () => void) {
  for await (const _ of c.req);
  then();
}

async function readXml(c: Call): Promise<any> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of c.req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > MAX_XML_BYTES) throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
    chunks.push(chunk);
  }
  try {
    return xml.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  }
}

/** The body's decoding and checking passes for this request, and the md5 once they all agree. */
function bodyChecks(c: Call, maxBytes: number): { checks: Transform[]; md5: () => Buffer } {
  const rules = payloadRules(c.req.headers);
  if (rules.length !== undefined && rules.length > maxBytes) throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.', { ProposedSize: String(rules.length), MaxSizeAllowed: String(maxBytes) });
  if (rules.length === undefined && !rules.chunked) throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
  const decoder = rules.chunked ? new AwsChunkedDecoder() : undefined;
  const digests = new PayloadDigests(rules);
  return { checks: decoder ? [decoder, digests] : [digests], md5: () => digests.verdict(decoder?.trailers) };
}

const userMetaOf = (c: Call) => Object.fromEntries(Object.entries(c.req.headers).filter(([k]) => k.startsWith('x-amz-meta-')).map(([k, v]) => [k, String(v)]));
const contentTypeOf = (c: Call) => String(c.req.headers['content-type'] ?? 'application/octet-stream');

async function putObject(files: ObjectFiles, c: Call) {
  const { checks, md5 } = bodyChecks(c, MAX_PUT_BYTES);
  const info = await files.putObject(c.bucket, c.key, c.req, { contentType: contentTypeOf(c), userMeta: userMetaOf(c), checks, md5 });
  reply(c, 200, '', { ETag: info.etag });
}

function objectHeaders(info: ObjectInfo): Record<string, string | number> {
  return { ETag: info.etag, 'Last-Modified': info.lastModified, 'Content-Type': info.contentType, 'Accept-Ranges': 'bytes', ...info.userMeta };
}

async function getObject(files: ObjectFiles, c: Call) {
  const info = files.head(c.bucket, c.key);
  const headers = objectHeaders(info);
  for (const [k, v] of c.query) if (k.startsWith('response-')) headers[k.slice('response-'.length)] = v; // response-content-type, …
  const ifNoneMatch = c.req.headers['if-none-match'];
  if (ifNoneMatch && (ifNoneMatch === '*' || ifNoneMatch.split(',').some((t) => t.trim() === info.etag))) return void c.res.writeHead(304, { ETag: info.etag }).end();
  const ifMatch = c.req.headers['if-match'];
  if (ifMatch && ifMatch !== '*' && !ifMatch.split(',').some((t) => t.trim() === info.etag)) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  const range = rangeOf(c.req.headers.range, info.size);
  if (range === 'unsatisfiable') throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: String(c.req.headers.range), ActualObjectSize: String(info.size) });
  const [start, end] = range === 'whole' ? [0, info.size - 1] : [range.start, range.end];
  const status = range === 'whole' ? 200 : 206;
  if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${info.size}`;
  headers['Content-Length'] = end - start + 1;
  if (c.req.method === 'HEAD' || info.size === 0) return void c.res.writeHead(status, headers).end();
  const body: Readable = await files.read(c.bucket, info, start, end);
  c.res.writeHead(status, headers);
  await pipeline(body, c.res).catch(() => {}); // a client going away ends the read; nothing to answer
}

/**
 * A handed-over answer: the head Glance wrote, then the bytes, then the end of the connection. Anything amiss
 * (no such object, another size) closes the connection unanswered, as a failed stream through Glance would cut
 * its answer short; Glance checked the size just before, so only a change in between gets here.
 */
async function writeHanded(files: ObjectFiles, socket: Socket, head: string, read: HandedRead): Promise<void> {
  socket.on('error', () => {}); // a client going away ends the read; nothing to answer
  socket.resume(); // the client sends nothing more (Connection: close); unread bytes would turn the close into a reset
  try {
    const info = files.head(read.bucket, read.key);
    if (info.size !== read.size) throw new Error(`the object is ${info.size} bytes, not the ${read.size} the image holds`);
    if (read.start < 0 || read.end >= info.size || read.start > read.end) throw new Error(`bytes ${read.start}-${read.end} are not in the object`);
    const body = await files.read(read.bucket, info, read.start, read.end);
    socket.write(head, 'latin1');
    await pipeline(body, socket);
  } catch (e) {
    socket.destroy();
    throw e;
  }
}

async function listObjects(files: ObjectFiles, c: Call) {
  const q = c.query;
  const v2 = q.get('list-type') === '2';
  const max = Math.min(1000, q.has('max-keys') ? Number(q.get('max-keys')) : 1000);
  if (!Number.isInteger(max) || max < 0) throw new S3Error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys' });
  const token = q.get('continuation-token');
  const after = v2 ? (token !== null ? Buffer.from(token, 'base64url').toString('utf8') : (q.get('start-after') ?? undefined)) : (q.get('marker') ?? undefined);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const urlEncoded = q.get('encoding-type') === 'url';
  const enc = (s: string) => xmlText(urlEncoded ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const found: ListResult = files.list(c.bucket, { prefix, ...(delimiter ? { delimiter } : {}), ...(after !== undefined ? { after } : {}), max });
  const contents = found.objects.map((o) => `<Contents><Key>${enc(o.key)}</Key><LastModified>${new Date(o.lastModified).toISOString()}</LastModified><ETag>${xmlText(o.etag)}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`).join('');
  const prefixes = found.commonPrefixes.map((p) => `<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`).join('');
  const paging = v2
    ? `<KeyCount>${found.objects.length + found.commonPrefixes.length}</KeyCount>${token !== null ? `<ContinuationToken>${xmlText(token)}</ContinuationToken>` : ''}${found.truncated && found.last !== undefined ? `<NextContinuationToken>${Buffer.from(found.last).toString('base64url')}</NextContinuationToken>` : ''}${q.has('start-after') ? `<StartAfter>${enc(q.get('start-after')!)}</StartAfter>` : ''}`
    : `<Marker>${enc(q.get('marker') ?? '')}</Marker>${found.truncated && delimiter && found.last !== undefined ? `<NextMarker>${enc(found.last)}</NextMarker>` : ''}`;
  reply(c, 200, `${XML_HEAD}<ListBucketResult ${NS}><Name>${xmlText(c.bucket)}</Name><Prefix>${enc(prefix)}</Prefix>${delimiter ? `<Delimiter>${enc(delimiter)}</Delimiter>` : ''}<MaxKeys>${max}</MaxKeys>${urlEncoded ? '<EncodingType>url</EncodingType>' : ''}<IsTruncated>${found.truncated}</IsTruncated>${paging}${contents}${prefixes}</ListBucketResult>`);
}

function listBuckets(files: ObjectFiles, c: Call) {
  const buckets = files.listBuckets().map((b) => `<Bucket><Name>${xmlText(b.name)}</Name><CreationDate>${b.created}</CreationDate></Bucket>`).join('');
  reply(c, 200, `${XML_HEAD}<ListAllMyBucketsResult ${NS}><Owner><ID>stratus</ID><DisplayName>stratus</DisplayName></Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`);
}

async function deleteObjects(files: ObjectFiles, c: Call) {
  const doc = await readXml(c);
  const objects: { Key?: string }[] = doc?.Delete?.Object ?? [];
  if (objects.length === 0 || objects.length > 1000) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema (1 to 1000 objects).');
  const quiet = String(doc.Delete.Quiet) === 'true';
  const done: string[] = [];
  for (const o of objects) {
    const key = String(o.Key ?? '');
    await files.deleteObject(c.bucket, key);
    if (!quiet) done.push(`<Deleted><Key>${xmlText(key)}</Key></Deleted>`);
  }
  reply(c, 200, `${XML_HEAD}<DeleteResult ${NS}>${done.join('')}</DeleteResult>`);
}

async function createUpload(files: ObjectFiles, c: Call) {
  for await (const _ of c.req);
  const id = await files.createUpload(c.bucket, c.key, { contentType: contentTypeOf(c), userMeta: userMetaOf(c) });
  reply(c, 200, `${XML_HEAD}<InitiateMultipartUploadResult ${NS}><Bucket>${xmlText(c.bucket)}</Bucket><Key>${xmlText(c.key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
}

async function uploadPart(files: ObjectFiles, c: Call, uploadId: string) {
  const { checks, md5 } = bodyChecks(c, MAX_PUT_BYTES);
  const etag = await files.uploadPart(c.bucket, c.key, uploadId, Number(c.query.get('partNumber')), c.req, checks, md5);
  reply(c, 200, '', { ETag: etag });
}

async function completeUpload(files: ObjectFiles, c: Call, uploadId: string) {
  const doc = await readXml(c);
  const parts: { PartNumber?: string; ETag?: string }[] = doc?.CompleteMultipartUpload?.Part ?? [];
  const listed = parts.map((p) => ({ number: Number(p.PartNumber), etag: String(p.ETag ?? '') }));
  const info = await files.completeUpload(c.bucket, c.key, uploadId, listed);
  reply(c, 200, `${XML_HEAD}<CompleteMultipartUploadResult ${NS}><Location>/${xmlText(c.bucket)}/${xmlText(c.key)}</Location><Bucket>${xmlText(c.bucket)}</Bucket><Key>${xmlText(c.key)}</Key><ETag>${xmlText(info.etag)}</ETag></CompleteMultipartUploadResult>`);
}

function listParts(files: ObjectFiles, c: Call, uploadId: string) {
  const { parts } = files.listParts(c.bucket, c.key, uploadId);
  const after = Number(c.query.get('part-number-marker') ?? 0);
  const max = Math.min(1000, Number(c.query.get('max-parts') ?? 1000));
  const page = parts.filter((p) => p.number > after).slice(0, max);
  const truncated = parts.filter((p) => p.number > after).length > page.length;
  const items = page.map((p) => `<Part><PartNumber>${p.number}</PartNumber><LastModified>${new Date(p.lastModified).toISOString()}</LastModified><ETag>${xmlText(p.etag)}</ETag><Size>${p.size}</Size></Part>`).join('');
  reply(c, 200, `${XML_HEAD}<ListPartsResult ${NS}><Bucket>${xmlText(c.bucket)}</Bucket><Key>${xmlText(c.key)}</Key><UploadId>${uploadId}</UploadId><PartNumberMarker>${after}</PartNumberMarker>${truncated ? `<NextPartNumberMarker>${page.at(-1)!.number}</NextPartNumberMarker>` : ''}<MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated><StorageClass>STANDARD</StorageClass>${items}</ListPartsResult>`);
}

function listUploads(files: ObjectFiles, c: Call) {
  const prefix = c.query.get('prefix') ?? '';
  const uploads = files.listUploads(c.bucket, prefix).map((u) => `<Upload><Key>${xmlText(u.key)}</Key><UploadId>${u.id}</UploadId><StorageClass>STANDARD</StorageClass><Initiated>${u.initiated}</Initiated></Upload>`).join('');
  reply(c, 200, `${XML_HEAD}<ListMultipartUploadsResult ${NS}><Bucket>${xmlText(c.bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>${xmlText(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${uploads}</ListMultipartUploadsResult>`);
}
