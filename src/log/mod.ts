/**
 * Leveled, journald-friendly logging.
 *
 * @module
 */
export * from "./logger.ts";
