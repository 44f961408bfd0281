/**
 * What the daemon's main thread uses of `vision`: pure code only, no model is
 * loaded by importing it (the stage handlers, `stages/mod.ts`, are loaded
 * inside the workers).
 *
 * @module
 */
export * from "./frame_change.ts";
export * from "./online_tracks.ts";
export type { PlateOnVehicle } from "./assign.ts";
export type { FramePlateRead } from "./smooth.ts";
