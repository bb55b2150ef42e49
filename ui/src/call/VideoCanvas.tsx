import { useEffect, useRef, type CanvasHTMLAttributes } from "react";
import type { VideoFeed } from "./videoFeed";
import type { VideoFrame } from "./videoPacket";

interface VideoCanvasProps extends Omit<CanvasHTMLAttributes<HTMLCanvasElement>, "ref"> {
  feed: VideoFeed;
  stream: number;
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
    let scheduled: number | null = null;
    let context: CanvasRenderingContext2D | null | undefined;
    let image: ImageData | null = null;
    let frames = 0;
    canvas.dataset.frames = "0";

    const draw = () => {
      scheduled = null;
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

    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = feed.subscribe(stream, (frame) => {
      // Older frames not drawn yet are dropped.
      pending = frame;
      if (document.visibilityState === "hidden") {
        // A hidden window gets no animation frames; keep up slowly, so the picture is fresh when it shows.
        timer ??= setTimeout(() => {
          timer = null;
          draw();
        }, 250);
      } else {
        scheduled ??= requestAnimationFrame(draw);
      }
    });
    return () => {
      unsubscribe();
      if (scheduled !== null) cancelAnimationFrame(scheduled);
      if (timer !== null) clearTimeout(timer);
    };
  }, [feed, stream]);

  return <canvas ref={ref} {...rest} />;
}
