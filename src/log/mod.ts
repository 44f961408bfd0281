/**
 * Leveled, journald-friendly logging.
 *
 * @module
 */
export * from "./logger.ts";
export * from "./redact.ts";
