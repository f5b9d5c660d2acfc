// Ctrl-C (SIGINT), SIGTERM or SIGHUP in the middle of writing a set of files would leave some of
// them new and some old (or temporary files behind): Node's default action for these signals ends
// the process at once, wherever it is. While a write holds the signals, they are caught and only
// noted; when the write is over (committed or rolled back), the signal is raised again with the
// default action, so the process still ends as the user asked, with the files whole.
//
//   const release = holdSignals();
//   try { ...write... } finally { release(); }
//
// The listeners, once installed, stay for the life of the process and act as the default action
// when no write is in progress: removing a signal listener can drop a signal that has arrived but
// not yet been dispatched, so they are removed only to raise a signal again. Other listeners (the
// login command handles SIGINT itself) see every signal as usual, and then nothing is raised again.

const SIGNALS: NodeJS.Signals[] =
  process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

let depth = 0;
let pending: NodeJS.Signals | undefined;
const handlers = new Map<NodeJS.Signals, () => void>();

/** Ends the process with the default action of `signal`, unless someone else handles it. */
function raiseAgain(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > (handlers.has(signal) ? 1 : 0)) return; // handled elsewhere
  for (const [s, h] of handlers) process.off(s, h);
  handlers.clear();
  process.kill(process.pid, signal);
}

function install(): void {
  if (handlers.size) return;
  for (const signal of SIGNALS) {
    const h = () => {
      if (depth > 0) pending ??= signal;
      else raiseAgain(signal);
    };
    handlers.set(signal, h);
    process.on(signal, h);
  }
}

/** Defers SIGINT/SIGTERM/SIGHUP until the returned function is called (nestable). */
export function holdSignals(): () => void {
  install();
  depth++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    depth--;
    if (depth === 0 && pending) {
      const signal = pending;
      pending = undefined;
      raiseAgain(signal);
    }
  };
}
