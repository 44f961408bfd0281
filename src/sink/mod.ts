/**
 * Sinks for final events: the local durable outbox and the fleet Postgres.
 * Only this folder opens Postgres.
 *
 * @module
 */
export * from "./outbox.ts";
export * from "./data_dir_outbox.ts";
export * from "./pg_client.ts";
export * from "./pg_schema.ts";
export * from "./pg_roles.ts";
export * from "./pg_search.ts";
export * from "./plate_match.ts";
export * from "./sync.ts";
export * from "./sync_error.ts";
export * from "./rejected_retry.ts";
export * from "./fleet.ts";
export * from "./evidence_sync.ts";
export * from "./evidence_files.ts";
export * from "./clip_sync.ts";
