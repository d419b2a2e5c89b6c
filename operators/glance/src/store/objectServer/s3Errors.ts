/**
 * S3's errors as values: the status and code S3 documents for each case, and the XML body S3 answers with
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
 */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** More elements of the error body (UploadId, Key, …). */
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

export const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function errorXml(e: S3Error, resource: string, requestId: string): string {
  const extra = Object.entries(e.extra).map(([k, v]) => `<${k}>${xmlText(v)}</${k}>`).join('');
  return `${XML_HEAD}<Error><Code>${e.code}</Code><Message>${xmlText(e.message)}</Message>${extra}<Resource>${xmlText(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
}

export const noSuchBucket = (bucket: string) => new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
export const noSuchKey = (key: string) => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
export const noSuchUpload = (uploadId: string) =>
  new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
