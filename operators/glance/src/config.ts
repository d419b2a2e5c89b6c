/** The image store's settings from the environment (as the chart's Secret and `stratus up` set them). */
import type { StoreConfig } from './store/imageStore.js';

/** The bucket images go in unless S3_BUCKET names another. */
export const DEFAULT_IMAGE_BUCKET = 'stratus-images';

export function storeConfigFromEnv(env: NodeJS.ProcessEnv): StoreConfig {
  const missing = ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].filter((k) => !env[k]);
  if (missing.length) throw new Error(`the image store needs ${missing.join(', ')} in the environment`);
  return {
    endpoint: env.S3_ENDPOINT!,
    bucket: env.S3_BUCKET ?? DEFAULT_IMAGE_BUCKET,
    region: env.S3_REGION,
    accessKeyId: env.S3_ACCESS_KEY_ID!,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
    ...(env.S3_PART_SIZE_MIB ? { partSize: Number(env.S3_PART_SIZE_MIB) * 1024 * 1024 } : {}),
    ...(env.S3_PARTS_IN_FLIGHT ? { queueSize: Number(env.S3_PARTS_IN_FLIGHT) } : {}),
  };
}

/** The same settings as environment variables, for a child process. */
export const storeConfigToEnv = (c: StoreConfig): Record<string, string> => ({
  S3_ENDPOINT: c.endpoint,
  S3_BUCKET: c.bucket,
  S3_ACCESS_KEY_ID: c.accessKeyId,
  S3_SECRET_ACCESS_KEY: c.secretAccessKey,
  ...(c.region ? { S3_REGION: c.region } : {}),
});
