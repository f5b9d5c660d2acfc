// A wrong passphrase that OpenSSL does not report as "bad decrypt".
//
// Decrypting an encrypted key with a wrong passphrase yields random bytes; about 1 time in 256 their
// last byte is valid CBC padding, and OpenSSL then fails later, decoding the garbage
// ("DECODER routines::unsupported"). CI met one such case by chance; tests use this to meet it every time.

import { createPrivateKey } from 'node:crypto';

const MAX_TRIES = 8000; // (255/256)^8000 ≈ 3e-14: never exhausted in practice

export function unluckyPassphrase(key: string | Buffer, format: 'pem' | 'der' = 'pem'): string {
  for (let i = 0; i < MAX_TRIES; i++) {
    const candidate = `wrong ${i}`;
    try {
      createPrivateKey({
        key,
        format,
        ...(format === 'der' ? { type: 'pkcs8' as const } : {}),
        passphrase: candidate,
      });
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_OSSL_BAD_DECRYPT') return candidate;
    }
  }
  throw new Error(`no wrong passphrase in ${MAX_TRIES} tries got past the padding check`);
}
