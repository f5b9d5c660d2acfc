// mtls-oauth as a library: the engine behind the CLI, with no printing and no process.exit.
//
//   import { openSession, tokenRequest } from 'mtls-oauth';
//   const s = await openSession({ settings: { issuer, clientId: 'kong', cert, key } });
//   try {
//     const { url } = s.endpoint('token');
//     const { token } = await tokenRequest(s.client, url, { grant_type: 'client_credentials' });
//   } finally {
//     await s.close();
//   }

export { checkBinding, jwtClaims } from './binding.ts';
export type { Check, CheckStatus } from './check.ts';
export { AUTH_METHODS, type AuthMethod, authenticate } from './client-auth.ts';
export { resolveSettings, SETTINGS, type Settings } from './config.ts';
export { discover, discoverMetadata, wellKnownUrls } from './discovery/index.ts';
export { validateMetadata } from './discovery/metadata.ts';
export { analyzeMtls, endpointFor } from './discovery/mtls.ts';
export {
  type CodeOfKind,
  ERROR_CODES,
  type ErrorCodeInfo,
  isErrorCode,
  type KindOf,
  oauthErrorCode,
} from './error-codes.ts';
export * from './errors.ts';
export { validateIdToken } from './id-token.ts';
export { login, startCallbackListener } from './login/index.ts';
export { generatePkce } from './pkce.ts';
export { formatDn, parseDn } from './pki/dn.ts';
export { inspectCertificates } from './pki/inspect.ts';
export { createTestPki, issueCertificate } from './pki/issue.ts';
export { buildP12, readP12 } from './pki/p12/index.ts';
export { sha256Fingerprint, x5tS256 } from './pki/thumbprint.ts';
export { openSession, type Session } from './session.ts';
export { runSmoke } from './smoke/index.ts';
export { introspectToken, revokeToken, tokenRequest, validateTokenResponse } from './token-endpoint.ts';
export type { ConnectionRecord } from './transport/diagnostics.ts';
export { HttpClient } from './transport/http-client.ts';
export { type ClientIdentity, loadClientIdentity } from './transport/identity.ts';
