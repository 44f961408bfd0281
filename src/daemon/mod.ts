/**
 * The daemon: engine, worker pool, dispatcher rules.
 *
 * @module
 */
export * from "./engine.ts";
export * from "./data_lock.ts";
export * from "./fanout.ts";
export * from "./pool.ts";
export type * from "./protocol.ts";
export * from "./event_sink.ts";
export * from "./metrics.ts";
export * from "./segment_handover.ts";
export { makeMissingModels } from "./preflight.ts";
export type { MakeMissingModelsOptions } from "./preflight.ts";
