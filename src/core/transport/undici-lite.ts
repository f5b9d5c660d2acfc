// undici's Agent and request() without the rest of undici. The package's index loads fetch,
// WebSocket, EventSource, the cache, the mocks and interceptors, and touching its web globals
// makes Node load its own bundled copy of undici too: about half of the time a one-request CLI run
// spends starting. The two modules used here are all the transport needs; their paths are
// undici's internal layout (pinned to major 7 in package.json), and every transport test runs
// through them, so a layout change fails loudly.

import type { Agent as AgentClass, Dispatcher } from 'undici';
import requestImpl from 'undici/lib/api/api-request.js';
import AgentImpl from 'undici/lib/dispatcher/agent.js';

export type Agent = AgentClass;
export const Agent: typeof AgentClass = AgentImpl;

/** `dispatcher.request(options)` (undici adds it to Dispatcher.prototype in its index). */
export function request(
  dispatcher: AgentClass,
  options: Dispatcher.RequestOptions,
): Promise<Dispatcher.ResponseData> {
  return requestImpl.call(dispatcher, options);
}
