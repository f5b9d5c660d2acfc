import type { ErrorKind } from '../core/errors.ts';

/** Exit codes are part of the interface: documented in the README and tested. */
export const EXIT = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  network: 3,
  oauth: 4,
  timeout: 5,
  interrupted: 130,
} as const;

export function exitCodeForKind(kind: ErrorKind): number {
  switch (kind) {
    case 'usage':
      return EXIT.usage;
    case 'network':
      return EXIT.network;
    case 'oauth':
      return EXIT.oauth;
    case 'timeout':
      return EXIT.timeout;
    case 'interrupted':
      return EXIT.interrupted;
    default:
      return EXIT.checkFailed;
  }
}
