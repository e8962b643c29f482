import { ImageEvent } from "../pipeline/messages";

/** Sends events to the image-events queue; every event meets its schema before it leaves. */
export interface EventProducer {
  send(event: ImageEvent): Promise<void>;
}

/** The producer over a Queue binding: validates with the same zod schema the consumer uses. */
export function queueProducer(queue: Queue): EventProducer {
  return {
    async send(event) {
      await queue.send(ImageEvent.parse(event), { contentType: "json" });
    },
  };
}

/** Reads a received message body: the event, or null when it does not meet the schema. */
export function parseEvent(body: unknown): ImageEvent | null {
  const parsed = ImageEvent.safeParse(body);
  return parsed.success ? parsed.data : null;
}

/** The image an event is about, for log lines; undefined for owner-wide events. */
export function eventImageId(event: ImageEvent): string | undefined {
  switch (event.type) {
    case "CachePurgeRequested":
      return event.target.kind === "image" ? event.target.imageId : undefined;
    case "ImagesIndexRequested":
      return event.imageIds.length === 1 ? event.imageIds[0] : undefined;
    case "AlbumIndexRequested":
      return undefined;
    default:
      return event.imageId;
  }
}
