// undici's Agent and a small request() over Dispatcher.dispatch, without the rest of undici. The
// package's index loads fetch, WebSocket, EventSource, the cache, the mocks and interceptors, and
// touching its web globals makes Node load its own bundled copy of undici too: about half of the
// time a one-request CLI run spends starting. undici's own request() (api/api-request.js) would
// bring its Readable body and async_hooks; the transport reads every body whole, so a plain chunk
// queue is all it needs. The module paths are undici's internal layout (pinned to major 7 in
// package.json), and every transport test runs through them, so a layout change fails loudly.

import v8 from 'node:v8';
import type { Agent as AgentClass, Dispatcher } from 'undici';
import undiciUtil from 'undici/lib/core/util.js';
import AgentImpl from 'undici/lib/dispatcher/agent.js';
import { UNDICI_V8_FLAGS } from './wasm-flags.ts';

// Before undici's HTTP parser (WebAssembly) is compiled: see wasm-flags.ts.
v8.setFlagsFromString(UNDICI_V8_FLAGS);

export type Agent = AgentClass;
export const Agent: typeof AgentClass = AgentImpl;

export interface RequestOptions {
  origin: string;
  path: string;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

/** The response body: every chunk as it arrives, in order; destroy() aborts the request. */
export interface ResponseBody extends AsyncIterable<Buffer> {
  destroy(): void;
}

export interface Response {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: ResponseBody;
}

const abortError = (signal: AbortSignal): Error =>
  signal.reason instanceof Error
    ? signal.reason
    : Object.assign(new Error('Request aborted'), { name: 'AbortError', code: 'UND_ERR_ABORTED' });

/** Chunks pushed by undici's callbacks, pulled by `for await`. Never applies back-pressure: the
 *  caller reads to the end or gives up, and a paused parser on a closing connection trips an
 *  assertion in undici 7 (Parser.finish). */
class ChunkQueue implements ResponseBody {
  private chunks: Buffer[] = [];
  private done = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly abort: (e: Error) => void) {}

  push(chunk: Buffer) {
    this.chunks.push(chunk);
    this.notify();
  }
  end() {
    this.done = true;
    this.notify();
  }
  fail(e: Error) {
    if (this.done) return;
    this.error = e;
    this.done = true;
    this.notify();
  }
  destroy() {
    if (this.done) return;
    this.done = true;
    this.abort(Object.assign(new Error('response body discarded'), { code: 'UND_ERR_ABORTED' }));
    this.notify();
  }
  private notify() {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  async *[Symbol.asyncIterator]() {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) {
        yield chunk;
        continue;
      }
      if (this.error) throw this.error;
      if (this.done) return;
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
  }
}

/** One request: resolves at the response headers (1xx skipped); HTTP error statuses resolve too. */
export function request(dispatcher: AgentClass, options: RequestOptions): Promise<Response> {
  const { signal, ...dispatchOptions } = options;
  return new Promise((resolve, reject) => {
    let abort: ((e: Error) => void) | undefined;
    let body: ChunkQueue | undefined;
    const onAbort = () => {
      const e = abortError(signal);
      body?.fail(e);
      abort?.(e);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal.removeEventListener('abort', onAbort);
    // undici 7 still takes the callback-style handler and wraps it (handler/wrap-handler.js).
    const handler = {
      onConnect(abortRequest: (e: Error) => void) {
        if (signal.aborted) abortRequest(abortError(signal));
        else abort = abortRequest;
      },
      onHeaders(statusCode: number, rawHeaders: Buffer[]) {
        if (statusCode < 200) return true;
        body = new ChunkQueue((e) => abort?.(e));
        resolve({ statusCode, headers: undiciUtil.parseHeaders(rawHeaders), body });
        return true;
      },
      onData(chunk: Buffer) {
        body?.push(chunk);
        return true;
      },
      onComplete() {
        settle();
        body?.end();
      },
      onError(e: Error) {
        settle();
        if (body) body.fail(e);
        else reject(e);
      },
    };
    dispatcher.dispatch(dispatchOptions, handler as unknown as Dispatcher.DispatchHandler);
  });
}
