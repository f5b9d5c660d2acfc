// Turns a failed request (the error undici or Node gave + what the connection saw) into an
// MtlsOAuthError with a stable code and a hint that uses those facts. Each job is a classifier of
// its own (classify-network.ts, classify-server.ts, classify-client.ts); the first that recognises
// the failure names it. The verdict (verdict.ts) and the doctor (causes.ts) read only the result.

import { errnoCode, MtlsOAuthError } from '../errors.ts';
import { keyMismatchHint } from '../transport/identity.ts';
import { clientCertificateFailure } from './classify-client.ts';
import {
  dnsOrTcpFailure,
  headersTooLarge,
  protocolMismatch,
  proxyFailure,
  timeoutFailure,
} from './classify-network.ts';
import { serverCertificateFailure } from './classify-server.ts';
import { type Failure, type FailureContext, failureFacts } from './failure.ts';

export type { FailureContext } from './failure.ts';

/** Before any byte went out: the identity itself (a key that does not match, a wrong passphrase). */
function identityFailure(f: Failure): MtlsOAuthError | undefined {
  const { e, codes, details } = f;
  if (codes.has('ERR_OSSL_X509_KEY_VALUES_MISMATCH')) {
    return new MtlsOAuthError('usage', 'KEY_MISMATCH', 'the private key does not belong to the certificate', {
      hint: keyMismatchHint(),
      cause: e,
      details: details(),
    });
  }
  if (codes.has('ERR_OSSL_BAD_DECRYPT')) {
    return new MtlsOAuthError('usage', 'KEY_PASSPHRASE', 'wrong passphrase for the private key', {
      hint: 'check MTLS_OAUTH_KEY_PASSPHRASE',
      cause: e,
      details: details(),
    });
  }
  return undefined;
}

/** In the order they are tried: the first that recognises the failure names it. */
const CLASSIFIERS = [
  identityFailure,
  timeoutFailure,
  headersTooLarge,
  proxyFailure,
  dnsOrTcpFailure,
  serverCertificateFailure,
  clientCertificateFailure,
  protocolMismatch,
];

export function classifyFailure(e: unknown, c: FailureContext): MtlsOAuthError {
  if (e instanceof MtlsOAuthError) return e;
  // A bug of ours is not a network failure: let it surface as one.
  if ((e instanceof TypeError || e instanceof ReferenceError || e instanceof RangeError) && !errnoCode(e)) {
    return new MtlsOAuthError('internal', 'INTERNAL', `unexpected error: ${e.message}`, {
      hint: 'this is a bug in mtls-oauth; run again with --debug and report the stack trace',
      cause: e,
    });
  }
  const f = failureFacts(e, c);
  for (const classify of CLASSIFIERS) {
    const err = classify(f);
    if (err) return err;
  }
  return f.net(
    'CONNECTION_FAILED',
    `${f.w}: ${f.first.message.split('\n')[0]}`,
    'run with -v to see each connection and exchange',
  );
}
