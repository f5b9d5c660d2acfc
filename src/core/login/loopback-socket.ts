// The loopback socket of the login callback: which addresses and ports it may use (RFC 8252 §7.3:
// a loopback IP literal, never a public interface), which Host headers it answers (anything else
// is DNS rebinding or a stray), and what a failure to listen means to the user.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errnoCode, MtlsOAuthError, usageError } from '../errors.ts';

export type LoopbackHost = '127.0.0.1' | '::1';

/** setTimeout's limit (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export function assertLoopbackHost(host: string | undefined): LoopbackHost {
  const h = host === undefined ? '127.0.0.1' : host.replace(/^\[(.*)\]$/, '$1');
  if (h === '127.0.0.1' || h === '::1') return h;
  throw usageError(
    'CALLBACK_HOST_NOT_LOOPBACK',
    `the callback listens on 127.0.0.1 or ::1 only, not "${host}"`,
    {
      hint: 'a loopback IP literal keeps the redirect on this machine (RFC 8252 §7.3, §8.3); "localhost" may resolve elsewhere',
    },
  );
}

export function assertPort(port: number): number {
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  throw usageError('BAD_PORT', `callback port ${port} is not a port number (0-65535)`, {
    hint: 'omit --port for an ephemeral port',
  });
}

export function assertPath(path: string): string {
  if (/^\/[^?#\s]*$/.test(path)) return path;
  throw usageError(
    'CALLBACK_PATH_INVALID',
    `callback path "${path}" must start with "/" and have no query or fragment`,
  );
}

export function assertTimeout(ms: number): number {
  if (Number.isFinite(ms) && ms > 0 && ms <= MAX_TIMEOUT_MS) return ms;
  throw usageError('CALLBACK_TIMEOUT_INVALID', `callback timeout ${ms} ms is out of range`);
}

export function formatRedirectUri(host: LoopbackHost, port: number, path: string): string {
  return `http://${host === '::1' ? '[::1]' : host}:${port}${path}`;
}

/** Host header values a browser sends for this listener; anything else is DNS rebinding or a stray. */
export function allowedHostHeaders(port: number): Set<string> {
  const names = ['127.0.0.1', '[::1]', 'localhost'];
  const allowed = new Set(names.map((n) => `${n}:${port}`));
  if (port === 80) for (const n of names) allowed.add(n);
  return allowed;
}

export function listenError(e: unknown, host: LoopbackHost, port: number): MtlsOAuthError {
  const code = errnoCode(e);
  const where = `${host === '::1' ? '[::1]' : host}:${port}`;
  if (code === 'EADDRINUSE') {
    return usageError(
      'PORT_IN_USE',
      `port ${port} is already in use on ${host}: cannot listen for the callback`,
      {
        hint: `stop what listens on ${where} (lsof -nP -iTCP:${port} -sTCP:LISTEN) or choose another --port the IdP accepts; mtls-oauth never falls back to another port`,
        cause: e,
      },
    );
  }
  if (code === 'EACCES') {
    return usageError('PORT_DENIED', `not allowed to listen on ${where}`, {
      hint: 'ports below 1024 need privileges: choose a higher --port, or omit it for an ephemeral port',
      cause: e,
    });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') {
    return usageError(
      'CALLBACK_HOST_UNAVAILABLE',
      `cannot listen on ${host}: this machine has no such loopback address`,
      {
        hint: host === '::1' ? 'IPv6 loopback is unavailable here: use 127.0.0.1 (drop --ipv6)' : undefined,
        cause: e,
      },
    );
  }
  return new MtlsOAuthError(
    'network',
    'CALLBACK_LISTEN_FAILED',
    `cannot listen on ${where}: ${(e as Error).message}`,
    {
      cause: e,
    },
  );
}

export function listen(server: Server, host: LoopbackHost, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: unknown) => {
      server.off('listening', onListening);
      reject(listenError(e, host, port));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

/** Stops listening and destroys every connection, idle or not; resolves when the port is free. */
export function shutDown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
