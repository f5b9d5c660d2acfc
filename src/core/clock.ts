// A monotonic clock in milliseconds. performance.now() would do, but its first use loads all of
// perf_hooks (about 1 ms of every run that times a connection); process.hrtime needs nothing.

/** Milliseconds from an arbitrary, fixed point; only differences mean anything. */
export function now(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
