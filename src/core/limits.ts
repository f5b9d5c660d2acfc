// Bounds on the work a file can ask of this tool (docs/security.md "Work bounded by the
// attacker"). A file is input like any other: a PKCS#12 file can name 2^40 key-derivation
// iterations and keep a command busy for ever, a path can name /dev/zero. Each count read from a
// file is checked against its limit before any work is done for it, and a file over a limit is
// refused with FILE_LIMIT, naming the limit and what the file asked for. Responses are bounded in
// transport/ (body and header sizes, JSON depth), device.ts (polling) and here (JWKS keys).

import { usageError } from './errors.ts';

/** An input file (certificate, key, CA bundle, PKCS#12, JWK, config): the system CA bundle is ~220 kB. */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;

/**
 * Key-derivation iterations of one PKCS#12 step (the MAC, or one encrypted part). OpenSSL writes
 * 2048, Windows 2000, Java 10000; OWASP's advice for PBKDF2-SHA256 is 600000. Above a million the
 * file was made to cost, not to protect.
 */
export const MAX_P12_ITERATIONS = 1_000_000;

/** All derivations of one PKCS#12 file together (the MAC, then each encrypted part, each with a key and an IV). */
export const MAX_P12_TOTAL_ITERATIONS = 8_000_000;

/** Bags in one PKCS#12 file: a key, its certificate and a chain need a handful. */
export const MAX_P12_BAGS = 256;

/** PEM blocks in one file: the system CA bundle has about 150. */
export const MAX_PEM_BLOCKS = 2000;

/** Keys in an IdP's JWK Set (a response): IdPs publish a handful, rotating. */
export const MAX_JWKS_KEYS = 100;

/** The usage error for a file over a limit (`value`: what the file asked for, when known). */
export function fileLimitError(
  source: string,
  what: string,
  value: string | undefined,
  limit: number,
  unit = '',
): Error {
  const over = `over the limit of ${limit.toLocaleString('en-US')}${unit ? ` ${unit}` : ''}`;
  return usageError('FILE_LIMIT', `${source}: ${what} is ${value ? `${value}, ${over}` : over}`, {
    hint:
      unit === 'bytes'
        ? 'name the file itself: a certificate, key or CA bundle is far smaller'
        : 'a file this costly was not made by an ordinary tool; export it again (openssl pkcs12 -export uses 2048 iterations)',
  });
}

/** A running total of key-derivation work for one PKCS#12 file: each step is checked before it runs. */
export function iterationBudget(source: string): (iterations: number, what: string) => void {
  let total = 0;
  return (iterations, what) => {
    if (!Number.isSafeInteger(iterations) || iterations > MAX_P12_ITERATIONS) {
      const shown = Number.isSafeInteger(iterations) ? iterations.toLocaleString('en-US') : 'more than 2^47';
      throw fileLimitError(source, `the iteration count of the ${what}`, shown, MAX_P12_ITERATIONS);
    }
    total += iterations;
    if (total > MAX_P12_TOTAL_ITERATIONS)
      throw fileLimitError(
        source,
        'the total of its iteration counts',
        total.toLocaleString('en-US'),
        MAX_P12_TOTAL_ITERATIONS,
      );
  };
}
