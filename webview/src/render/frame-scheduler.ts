/**
 * At most one canvas frame per animation frame, however many changes arrive in between: a
 * change asks for a frame (`invalidate`), the frame draws the latest state.
 */

export interface FrameScheduler {
  /** Draws in the next animation frame (once, however often it is asked). */
  invalidate(): void;
  /** Draws now (a benchmark timing frames). */
  flush(): void;
}

export function createFrameScheduler(draw: () => void): FrameScheduler {
  let frame = 0;
  return {
    invalidate() {
      if (frame !== 0) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        draw();
      });
    },
    flush: draw,
  };
}
