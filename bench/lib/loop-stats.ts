// The controller process's own health over a window: event-loop delay (perf_hooks histogram) and
// garbage collections by kind, with their total pause. Start at the window's start, read at its end.
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export interface LoopStats {
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  gc: { minor: number; major: number; other: number; pauseMs: number };
}

export function watchLoop(): { stop(): LoopStats } {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const gc = { minor: 0, major: 0, other: 0, pauseMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
      else gc.other++;
      gc.pauseMs += entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      delay.disable();
      observer.disconnect();
      const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
      return {
        eventLoopDelayMs: {
          p50: ms(delay.percentile(50)),
          p99: ms(delay.percentile(99)),
          max: ms(delay.max),
        },
        gc: { ...gc, pauseMs: Math.round(gc.pauseMs * 10) / 10 },
      };
    },
  };
}
