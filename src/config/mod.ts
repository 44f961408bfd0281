/**
 * Configuration: schema, defaults and loading.
 *
 * @module
 */
export * from "./schema.ts";
export * from "./load.ts";
export * from "./cameras.ts";
