/**
 * The only code that knows the R2 key layout.
 *   uploads/{id}                          raw upload, exactly as received (owner only); a
 *                                         resumable upload builds it as a multipart upload
 *   variants/{id}/{revision}/{name}.{fmt} processed renditions; immutable per revision
 */
export class ObjectStore {
  constructor(private readonly bucket: R2Bucket) {}

  private uploadKey(imageId: string): string {
    return `uploads/${imageId}`;
  }

  private variantKey(imageId: string, revision: number, name: string, format: string): string {
    return `variants/${imageId}/${revision}/${name}.${format}`;
  }

  /** Streams an upload into R2; the body must have a known length. */
  putUpload(imageId: string, body: ReadableStream, contentType: string): Promise<R2Object> {
    return this.bucket.put(this.uploadKey(imageId), body, {
      httpMetadata: { contentType },
    });
  }

  /**
   * Starts a multipart upload of the raw upload (resumable uploads); returns its R2 upload id.
   * Parts are written with `uploadPart` and joined into `uploads/{id}` by `completeUpload`.
   */
  async startMultipartUpload(imageId: string): Promise<string> {
    const upload = await this.bucket.createMultipartUpload(this.uploadKey(imageId), {
      httpMetadata: { contentType: "application/octet-stream" },
    });
    return upload.uploadId;
  }

  /** Writes one part (1-based); every part but the last must have the same size (>= 5 MiB). */
  uploadPart(
    imageId: string,
    uploadId: string,
    partNumber: number,
    bytes: Uint8Array,
  ): Promise<R2UploadedPart> {
    return this.bucket
      .resumeMultipartUpload(this.uploadKey(imageId), uploadId)
      .uploadPart(partNumber, bytes);
  }

  /** Joins the parts into the raw upload; returns its size. */
  async completeMultipartUpload(
    imageId: string,
    uploadId: string,
    parts: R2UploadedPart[],
  ): Promise<number> {
    const object = await this.bucket
      .resumeMultipartUpload(this.uploadKey(imageId), uploadId)
      .complete(parts);
    return object.size;
  }

  /** Abandons a multipart upload and its parts (an already finished or aborted one is fine). */
  async abortMultipartUpload(imageId: string, uploadId: string): Promise<void> {
    try {
      await this.bucket.resumeMultipartUpload(this.uploadKey(imageId), uploadId).abort();
    } catch {
      // Nothing left to abort: completed, aborted before, or expired by R2 itself.
    }
  }

  /** The size of the stored raw upload, or null when there is none. */
  async uploadSize(imageId: string): Promise<number | null> {
    return (await this.bucket.head(this.uploadKey(imageId)))?.size ?? null;
  }

  /** Reads the raw upload, optionally conditional/ranged. */
  getUpload(imageId: string, options?: R2GetOptions): Promise<R2ObjectBody | R2Object | null> {
    return this.bucket.get(this.uploadKey(imageId), options);
  }

  /** Reads the raw upload's bytes (processor). */
  async readUpload(imageId: string): Promise<Uint8Array | null> {
    const obj = await this.bucket.get(this.uploadKey(imageId));
    return obj ? new Uint8Array(await obj.arrayBuffer()) : null;
  }

  /** Stores one rendition; returns its ETag. */
  async putVariant(
    imageId: string,
    revision: number,
    name: string,
    format: string,
    bytes: Uint8Array,
    contentType: string,
  ): Promise<string> {
    const obj = await this.bucket.put(this.variantKey(imageId, revision, name, format), bytes, {
      httpMetadata: { contentType },
    });
    return obj.httpEtag;
  }

  /** Reads one rendition, honouring conditional and range options. */
  getVariant(
    imageId: string,
    revision: number,
    name: string,
    format: string,
    options?: R2GetOptions,
  ): Promise<R2ObjectBody | R2Object | null> {
    return this.bucket.get(this.variantKey(imageId, revision, name, format), options);
  }

  /** Deletes every rendition of one revision. */
  async deleteRevision(imageId: string, revision: number): Promise<void> {
    await this.deletePrefix(`variants/${imageId}/${revision}/`);
  }

  /** Deletes the renditions of every revision older than `revision` (after a reprocess). */
  async deleteRevisionsBelow(imageId: string, revision: number): Promise<void> {
    const prefix = `variants/${imageId}/`;
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix, cursor, limit: 1000 });
      const old = page.objects
        .map((o) => o.key)
        .filter((key) => Number(key.slice(prefix.length).split("/", 1)[0]) < revision);
      if (old.length > 0) await this.bucket.delete(old);
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }

  /** Deletes the upload and every rendition of every revision. */
  async deleteImage(imageId: string): Promise<void> {
    await this.deletePrefix(`variants/${imageId}/`);
    await this.bucket.delete(this.uploadKey(imageId));
  }

  private async deletePrefix(prefix: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.bucket.list({ prefix, cursor, limit: 1000 });
      if (page.objects.length > 0) await this.bucket.delete(page.objects.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
}
