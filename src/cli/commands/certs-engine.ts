// Everything the `certs` commands use from the core, behind one dynamic import: esbuild then
// bundles it as one chunk instead of a dozen small ones, and each chunk a command loads costs its
// start-up time (see the certs section of scripts/bench.mjs).

export { checkOutputs, readInputFile, writeFilesAtomicAsync } from '../../core/files.ts';
export { parseDn } from '../../core/pki/dn.ts';
export { inspectCertificates } from '../../core/pki/inspect.ts';
export {
  baseNameFor,
  createTestPki,
  issueCertificate,
  loadCa,
  parseDays,
  subjectFrom,
} from '../../core/pki/issue.ts';
export { certificateJwks } from '../../core/pki/jwks.ts';
export { parseKeyType } from '../../core/pki/keys.ts';
export { buildP12 } from '../../core/pki/p12.ts';
export { isEncryptedKey } from '../../core/pki/pem.ts';
export { parseSans } from '../../core/pki/san.ts';
