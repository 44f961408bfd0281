/**
 * The engine's event sink: the outbox, plus the plates-of-interest check on
 * every new event (matching works offline against the local copy).
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { Outbox } from "../sink/mod.ts";
import type { ClipRecord, FinalEvent, TrackRecord } from "../shared/mod.ts";

/** Where final events go: the local durable outbox. */
export interface EventSink {
  /** Stores an event; false when its key was stored before. */
  add(event: FinalEvent): boolean;
  /** Stores a finished clip and its tracks for the fleet (optional: test sinks leave it out). */
  addClip?(clip: ClipRecord, tracks: readonly TrackRecord[]): void;
}

/**
 * Wraps the outbox as the engine's sink.
 *
 * @param outbox The local outbox.
 * @param options Logger, and a callback for each new event (the daemon kicks its sync loop).
 * @returns The sink.
 */
export function outboxSink(
  outbox: Outbox,
  options: { log: Logger; onEvent?: (event: FinalEvent) => void },
): EventSink {
  return {
    add(event: FinalEvent): boolean {
      const added = outbox.add(event);
      if (!added) return false;
      const alert = outbox.matchAlert(event.finalPlate);
      if (alert) {
        outbox.markAlert(event.eventKey, alert.id);
        options.log.warn("plate of interest seen", {
          plate: event.finalPlate,
          listed: alert.plate,
          match: alert.match,
          note: alert.note ?? undefined,
          video: event.videoId,
          ts: event.ts,
        });
      }
      options.onEvent?.(event);
      return true;
    },
    addClip(clip: ClipRecord, tracks: readonly TrackRecord[]): void {
      outbox.addClip(clip, tracks);
    },
  };
}
