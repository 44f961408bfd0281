/**
 * Which stage workers the pool starts: `workers` gives each stage's count,
 * `worker_groups` the stages one worker serves together. Pure.
 *
 * A worker costs an isolate (14.5 MiB measured: 4 extra plate_smooth and
 * summary workers added 58 MiB to `process` of one frame) and its start-up
 * (0.13 s of CPU). On 2 cores two busy workers already use the machine, so
 * the default groups the short stages with a longer one: the two clip-end
 * stages (no model) and the OCR (about 2 ms a plate) with the vehicle
 * detector, leaving the plate detector, the slowest stage, a worker of its
 * own (see `worker_groups` in src/config/schema.ts).
 *
 * @module
 */
import { TASK_CATEGORIES, type TaskCategory } from "../shared/mod.ts";

/** One worker to start. */
export interface WorkerSlot {
  /** Stages it claims tasks of, in the order it tries them. */
  categories: TaskCategory[];
  /** Its number within its group (0-based). */
  index: number;
}

/** Options for {@linkcode workerSlots}. */
export interface WorkerSlotsOptions {
  /**
   * Stages served by one worker together (each stage in one group at
   * most); a stage in no group gets workers of its own. A group gets as
   * many workers as its largest count, and its worker `i` serves the
   * stages whose count is above `i`.
   */
  groups: readonly (readonly TaskCategory[])[];
}

/**
 * The workers to start.
 *
 * @example Two plate detectors; OCR beside the vehicle detector
 * ```ts
 * import assert from "node:assert/strict";
 * const slots = workerSlots(
 *   { vehicle_detect: 1, plate_detect: 2, ocr: 1, plate_smooth: 1, summary: 1 },
 *   { groups: [["ocr", "vehicle_detect"], ["plate_smooth", "summary"]] },
 * );
 * assert.deepEqual(slots.map((s) => s.categories.join("+")), [
 *   "ocr+vehicle_detect", "plate_detect", "plate_detect", "plate_smooth+summary",
 * ]);
 * ```
 * @param workers Workers per stage (each at least 1).
 * @param options The groups.
 * @returns One entry per worker, in pipeline order of each group's first stage.
 * @throws {RangeError} When a stage is in two groups.
 */
export function workerSlots(
  workers: Record<TaskCategory, number>,
  options: WorkerSlotsOptions,
): WorkerSlot[] {
  const seen = new Set<TaskCategory>();
  for (const group of options.groups) {
    for (const c of group) {
      if (seen.has(c)) {
        throw new RangeError(
          `Cannot lay out workers as '${c}' is in two worker groups`,
        );
      }
      seen.add(c);
    }
  }
  const groups = [
    ...options.groups.filter((g) => g.length > 0),
    ...TASK_CATEGORIES.filter((c) => !seen.has(c)).map((c) => [c]),
  ];
  const first = (g: readonly TaskCategory[]) =>
    Math.min(...g.map((c) => TASK_CATEGORIES.indexOf(c)));
  groups.sort((a, b) => first(a) - first(b));
  const slots: WorkerSlot[] = [];
  for (const group of groups) {
    const n = Math.max(...group.map((c) => workers[c]));
    for (let index = 0; index < n; index++) {
      slots.push({
        categories: group.filter((c) => workers[c] > index),
        index,
      });
    }
  }
  return slots;
}
