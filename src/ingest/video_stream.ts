/**
 * Which video stream of a clip is the recording. Pure, so it is tested alone
 * with ffprobe-like JSON; probe and decode both use it, so they always agree.
 *
 * @module
 */

/** The fields of one ffprobe `streams[]` entry that the choice reads. */
export interface ProbeStream {
  /** Absolute stream index in the file (`-map 0:<index>`). */
  index?: number;
  /** `video`, `audio`, `subtitle`, `data`. */
  codec_type?: string;
  /** Coded width in pixels. */
  width?: number;
  /** Coded height in pixels. */
  height?: number;
  /** Frame count the container states (a string in ffprobe's JSON). */
  nb_frames?: string | number;
  /** Stream duration in seconds (a string in ffprobe's JSON). */
  duration?: string | number;
  /** ffprobe's flags: `default`, `attached_pic`, `still_image`, ... (0/1). */
  disposition?: Record<string, number>;
  /** Other fields, kept for the caller. */
  [key: string]: unknown;
}

function frames(s: ProbeStream): number | null {
  const n = Number(s.nb_frames);
  return Number.isFinite(n) && n > 0 ? n : null;
}

function seconds(s: ProbeStream): number {
  const d = Number(s.duration);
  return Number.isFinite(d) && d > 0 ? d : 0;
}

/**
 * Chooses the clip's recording among its streams: a video stream with a
 * size that is not a cover/thumbnail picture (`disposition.attached_pic`,
 * `still_image`, or one frame while another stream has more), then the
 * default disposition, then the most frames, then the longest duration, then
 * the lowest index. Cameras that write a JPEG thumbnail as the first video
 * track (MiVue, some Viofo firmware) and MP4s with cover art are the reason
 * (ffprobe's `disposition` fields, ffmpeg docs "Stream specifiers").
 *
 * @param streams ffprobe's `streams` array (any types; non-video ignored).
 * @returns The chosen stream, or `null` when there is no usable video stream.
 */
export function chooseVideoStream(
  streams: readonly ProbeStream[],
): ProbeStream | null {
  const video = streams.filter((s) =>
    s.codec_type === "video" && Number(s.width) > 0 && Number(s.height) > 0
  );
  const pictures = (s: ProbeStream) =>
    s.disposition?.attached_pic === 1 || s.disposition?.still_image === 1;
  let candidates = video.filter((s) => !pictures(s));
  if (candidates.length === 0) candidates = video; // a lone cover is all there is
  const moving = candidates.filter((s) => (frames(s) ?? 2) > 1);
  if (moving.length > 0) candidates = moving;
  const ranked = [...candidates].sort((a, b) =>
    (b.disposition?.default === 1 ? 1 : 0) -
      (a.disposition?.default === 1 ? 1 : 0) ||
    (frames(b) ?? 0) - (frames(a) ?? 0) ||
    seconds(b) - seconds(a) ||
    (Number(a.index) || 0) - (Number(b.index) || 0)
  );
  return ranked[0] ?? null;
}
