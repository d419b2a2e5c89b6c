#!/usr/bin/env node
/**
 * The embedded S3 server as its own process (what `stratus up` runs, as a cloud runs its object store apart
 * from the services using it): prints one JSON line with its endpoint, stops on SIGTERM. It accepts only
 * requests signed with S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY from its environment (made up when unset).
 *
 *   node s3main.js --directory DIR [--host 127.0.0.1] [--port 9000] [--bucket NAME …]
 */
import { parseArgs } from 'node:util';
import { createLogger, stopWithParent, takeHandedResponses } from '@stratus/runtime';
import type { HandedRead } from './objectServer/s3Server.js';
import { startEmbeddedS3 } from './embeddedS3.js';

const { values } = parseArgs({
  options: {
    directory: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    bucket: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.directory) throw new Error('--directory is required');
const { S3_ACCESS_KEY_ID: accessKeyId, S3_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
const s3 = await startEmbeddedS3({ directory: values.directory, host: values.host, port: Number(values.port), buckets: values.bucket, ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}) });
process.stdout.write(JSON.stringify({ endpoint: s3.endpoint }) + '\n');
// Under `stratus up`, Glance hands it the connections of image downloads to write the data to (runtime's RESPONSE_MESSAGE).
const log = createLogger('s3');
takeHandedResponses<HandedRead>(s3.writeHanded, (e, read) => log.error('an image download was cut short', { bucket: read.bucket, key: read.key, error: e.message }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void s3.close().then(() => process.exit(0)));
stopWithParent();
