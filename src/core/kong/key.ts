// The client's private key as Kong's Certificate entity needs it: unencrypted PEM (Kong has no
// passphrase field). Read only for --include-key, from the identity the run already loaded.

import { createPrivateKey } from 'node:crypto';
import { usageError } from '../errors.ts';
import { privateKeyPem } from '../pki/keys.ts';
import type { ClientIdentity } from '../transport/identity.ts';

export async function unencryptedKeyPem(identity: ClientIdentity): Promise<string> {
  const { tls } = identity;
  if (tls.key) return privateKeyPem(createPrivateKey({ key: tls.key, passphrase: tls.passphrase }));
  if (tls.pfx) {
    const { readP12 } = await import('../pki/p12/index.ts');
    const key = readP12(tls.pfx, tls.passphrase, identity.source).key;
    if (key) return privateKeyPem(key);
  }
  throw usageError('KONG_NO_KEY', `no private key to include from ${identity.source}`, {
    hint: 'give the key with --key FILE (or a PKCS#12 file that holds it), or drop --include-key',
  });
}
