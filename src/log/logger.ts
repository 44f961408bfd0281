/**
 * A small leveled logger. Lines go to stderr. Under systemd (when
 * `JOURNAL_STREAM` is set) each line starts with a `<N>` syslog priority so
 * journald files it at the right level; elsewhere lines carry a time and the
 * level name.
 *
 * @module
 */

import { redactSecrets } from "./redact.ts";

/** Log levels, most severe first, with their syslog priorities. */
export const LEVELS = {
  error: 3,
  warn: 4,
  info: 6,
  debug: 7,
} as const;

/** Name of a log level. */
export type LevelName = keyof typeof LEVELS;

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** Where formatted lines go; tests pass their own. */
export type LogSink = (line: string) => void;

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  /** Lowest level written. @default {"info"} */
  level?: LevelName;
  /** Prefix lines with `<N>` priorities instead of time and level. @default {whether JOURNAL_STREAM is set} */
  journald?: boolean;
  /** Receives each formatted line. @default {writes to stderr} */
  sink?: LogSink;
  /** Fields added to every line. @default {{}} */
  fields?: LogFields;
}

const encoder = new TextEncoder();

function stderrSink(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

function journaldDefault(): boolean {
  try {
    return Deno.env.get("JOURNAL_STREAM") !== undefined;
  } catch {
    return false;
  }
}

/** Returns true when `name` is a valid level name. */
export function isLevelName(name: string): name is LevelName {
  return Object.hasOwn(LEVELS, name);
}

function formatValue(value: unknown): string {
  if (typeof value === "string") {
    return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  }
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? String(value);
}

/**
 * Formats one log line, with any `user:password@` or `password=` hidden
 * ({@linkcode redactSecrets}). Pure, so tests can check it.
 *
 * @example Journald line
 * ```ts
 * import { formatLine } from "./logger.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatLine("warn", "disk low", { journald: true, fields: { free_mb: 12 } }), "<4>disk low free_mb=12");
 * ```
 * @param level Level of the line.
 * @param message The message.
 * @param options Fields, journald mode and the time to print.
 * @returns The line, without a newline.
 */
export function formatLine(
  level: LevelName,
  message: string,
  options: { journald: boolean; fields?: LogFields; time?: Date },
): string {
  const fields = Object.entries(options.fields ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(" ");
  // No password ever reaches a log, whatever shape it was given in.
  const text = redactSecrets(fields ? `${message} ${fields}` : message);
  if (options.journald) return `<${LEVELS[level]}>${text}`;
  const time = (options.time ?? new Date()).toISOString();
  return `${time} ${level.toUpperCase().padEnd(5)} ${text}`;
}

/** A leveled logger with fixed fields; `child()` adds more. */
export class Logger {
  #level: LevelName;
  #journald: boolean;
  #sink: LogSink;
  #fields: LogFields;

  /** Creates a logger; see {@linkcode LoggerOptions}. */
  constructor(options: LoggerOptions = {}) {
    this.#level = options.level ?? "info";
    this.#journald = options.journald ?? journaldDefault();
    this.#sink = options.sink ?? stderrSink;
    this.#fields = options.fields ?? {};
  }

  /** The lowest level written. */
  get level(): LevelName {
    return this.#level;
  }

  /** Changes the lowest level written. */
  set level(level: LevelName) {
    this.#level = level;
  }

  /** Returns a logger writing to the same place with extra fields. */
  child(fields: LogFields): Logger {
    return new Logger({
      level: this.#level,
      journald: this.#journald,
      sink: this.#sink,
      fields: { ...this.#fields, ...fields },
    });
  }

  /** Writes `message` at `level` when that level is enabled. */
  log(level: LevelName, message: string, fields?: LogFields): void {
    if (LEVELS[level] > LEVELS[this.#level]) return;
    this.#sink(formatLine(level, message, {
      journald: this.#journald,
      fields: { ...this.#fields, ...fields },
    }));
  }

  /** Writes an error line. */
  error(message: string, fields?: LogFields): void {
    this.log("error", message, fields);
  }

  /** Writes a warning line. */
  warn(message: string, fields?: LogFields): void {
    this.log("warn", message, fields);
  }

  /** Writes an info line. */
  info(message: string, fields?: LogFields): void {
    this.log("info", message, fields);
  }

  /** Writes a debug line. */
  debug(message: string, fields?: LogFields): void {
    this.log("debug", message, fields);
  }
}

/** The process-wide logger; `cli/` sets its level from config. */
export const log: Logger = new Logger();
