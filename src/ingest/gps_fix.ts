/**
 * A GPS fix as a source gives it, before it is placed on the clip's time
 * line. Plain data; a leaf.
 *
 * Which clock a fix time is on matters (see `../shared/media/gps/README.md`):
 * only GoPro GPMF times (GPSU/GPRI, or the Karma's Unix SystemTime) and NMEA
 * RMC times are UTC by definition; a Novatek `…Z` time, a BlackVue `[ms]`
 * prefix, a Kaiser Bass R50 log or a DJI SRT time is the camera's own clock,
 * whatever zone it was set to.
 *
 * @module
 */

/** One position read from a clip or its sidecar. */
export interface RawGpsFix {
  /** Seconds from the clip's start, when the source says (GoPro `SampleTime`). */
  clipS?: number;
  /** The fix time on the camera's clock, read as if UTC (ms since the epoch); zone unknown. */
  cameraMs?: number;
  /** The fix time in true UTC (ms since the epoch): GPMF GPSU, NMEA RMC. */
  utcMs?: number;
  /** Latitude, WGS 84 degrees north. */
  lat: number;
  /** Longitude, WGS 84 degrees east. */
  lon: number;
  /** Ground speed in km/h, when the source gives one (converted from its own unit). */
  speedKmh?: number;
  /** Course over ground, degrees clockwise from true north, when the source gives one. */
  headingDeg?: number;
}

/** What a GPS source gave for one clip. */
export interface RawGpsTrack {
  /** Where the fixes came from, e.g. `exiftool`, `nmea:/sd/x_N.gps`. */
  source: string;
  /** The fixes, in the source's order. */
  fixes: RawGpsFix[];
  /** Records the source held that were not a fix (no lock, status V, 0/0), with the first reason. */
  skipped: { count: number; reason: string | null };
}

/** Knots to km/h (1 kn = 1.852 km/h exactly, by the definition of the nautical mile). */
export const KNOTS_TO_KMH = 1.852;

/** m/s to km/h. */
export const MS_TO_KMH = 3.6;

/** Statute miles per hour to km/h (1 mi = 1.609344 km exactly). */
export const MPH_TO_KMH = 1.609344;
