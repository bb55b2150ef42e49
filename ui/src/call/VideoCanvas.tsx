import { useEffect, useRef, type CanvasHTMLAttributes } from "react";
import type { VideoStream } from "../core";
import { nextPaint, type VideoFeed } from "./videoFeed";
import type { VideoFrame } from "./videoPacket";

interface VideoCanvasProps extends Omit<CanvasHTMLAttributes<HTMLCanvasElement>, "ref"> {
  feed: VideoFeed;
  stream: VideoStream;
  "data-testid"?: string;
}

/**
 * One video stream drawn on a canvas: frames are put aside as they arrive and
 * only the newest is drawn, once per animation frame. The canvas counts the
 * frames it drew in `data-frames` (end-to-end tests watch it).
 */
export function VideoCanvas({ feed, stream, ...rest }: VideoCanvasProps) {
  const ref = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const canvas = ref.current;
    if (canvas === null) return;
    let pending: VideoFrame | null = null;
    let scheduled = false;
    let live = true;
    let context: CanvasRenderingContext2D | null | undefined;
    let image: ImageData | null = null;
    let frames = 0;
    canvas.dataset.frames = "0";

    const draw = () => {
      scheduled = false;
      const frame = pending;
      pending = null;
      if (frame === null) return;
      if (canvas.width !== frame.width || canvas.height !== frame.height) {
        canvas.width = frame.width;
        canvas.height = frame.height;
      }
      context ??= canvas.getContext("2d");
      if (context !== null) {
        if (image === null || image.width !== frame.width || image.height !== frame.height) {
          image = context.createImageData(frame.width, frame.height);
        }
        image.data.set(frame.rgba);
        context.putImageData(image, 0, 0);
      }
      frames += 1;
      canvas.dataset.frames = String(frames);
    };

    const unsubscribe = feed.subscribe(stream, (frame) => {
      // Older frames not drawn yet are dropped.
      pending = frame;
      if (scheduled) return;
      scheduled = true;
      void nextPaint().then(() => {
        if (live) draw();
      });
    });
    return () => {
      live = false;
      unsubscribe();
    };
  }, [feed, stream]);

  return <canvas ref={ref} {...rest} />;
}
