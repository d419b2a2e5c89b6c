#!/usr/bin/env node
/**
 * s3rver as its own process, with s3main.js's command line and first line of output, so that s3.bench.ts
 * starts both servers the same way (startS3Process).
 */
import { parseArgs } from 'node:util';
import { startS3rver } from './s3rver.js';

const { values } = parseArgs({ options: { directory: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' } } });
const { S3_ACCESS_KEY_ID: accessKeyId = '', S3_SECRET_ACCESS_KEY: secretAccessKey = '' } = process.env;
const s3 = await startS3rver({ directory: values.directory!, host: values.host, port: Number(values.port), credentials: { accessKeyId, secretAccessKey } });
process.stdout.write(JSON.stringify({ endpoint: s3.endpoint }) + '\n');
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void s3.close().then(() => process.exit(0)));
process.stdin.on('end', () => process.exit(0)); // startS3Process's pipe: gone with the bench
process.stdin.resume();
