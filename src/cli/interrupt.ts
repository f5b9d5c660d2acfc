// Ctrl-C during a wait (the browser, the device approval): the first aborts the flow, which ends
// cleanly with exit 130; a second one leaves at once.

import { EXIT } from './exit-codes.ts';

export function abortOnSigint(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}
