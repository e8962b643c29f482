/**
 * One structured logger for both Workers: JSON lines with the same keys everywhere
 * (`level`, `event`, `worker`, `requestId`, `imageId`, `ms`, `code`), so a log search for one
 * image or one request finds every line of it.
 */

/** Fields a log line may carry; the named ones keep the same meaning everywhere. */
export interface LogFields {
  requestId?: string;
  imageId?: string;
  ms?: number;
  code?: string;
  [key: string]: unknown;
}

/** Logger with fixed context fields. */
export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields` (e.g. the request id). */
  with(fields: LogFields): Logger;
}

type Level = "info" | "warn" | "error";

/** Builds a logger that writes one JSON object per line through `write`. */
export function createLogger(
  base: LogFields & { worker: string },
  write: (line: string) => void = (line) => console.log(line),
): Logger {
  const emit = (level: Level, event: string, fields: LogFields = {}): void => {
    const entry: Record<string, unknown> = { level, event, ...base, ...fields };
    const err = entry.err;
    if (err instanceof Error) entry.err = err.stack ?? err.message;
    else if (err !== undefined && typeof err !== "string") entry.err = String(err);
    write(JSON.stringify(entry));
  };
  return {
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
    with: (fields) => createLogger({ ...base, ...fields }, write),
  };
}
