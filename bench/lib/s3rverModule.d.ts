// s3rver ships no types; this is the part of its API Stratus uses (https://github.com/jamhall/s3rver#readme).
declare module 's3rver' {
  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    configureBuckets?: Array<{ name: string; configs?: string[] }>;
  }
  /** S3rver is a Koa application; `middleware` and `store` are what s3rver.ts reaches into. */
  export default class S3rver {
    constructor(options: S3rverOptions);
    middleware: Array<(ctx: any, next: () => Promise<void>) => Promise<void> | void>;
    store: { getResourcePath(bucket: string, key: string | undefined, resource: string): string };
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}

// Its one account, whose access keys s3rver.ts replaces with the server's own.
declare module 's3rver/lib/models/account.js' {
  export const DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void; revokeAccessKey(accessKeyId: string): void };
}
