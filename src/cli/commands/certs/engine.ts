// What `certs init` and `certs issue` use from the core, behind one dynamic import: esbuild then
// bundles it as one chunk instead of a dozen small ones, and each chunk a command loads costs its
// start-up time (see the certs section of scripts/bench.mjs). PKCS#12 and the inspector load
// only when asked for.

export { checkOutputs, readInputFile, writeFilesAtomicAsync } from '../../../core/files.ts';
export { parseDn } from '../../../core/pki/dn.ts';
export {
  baseNameFor,
  createTestPki,
  issueCertificate,
  loadCa,
  parseDays,
  subjectFrom,
} from '../../../core/pki/issue.ts';
export { certificateJwks } from '../../../core/pki/jwks.ts';
export { parseKeyType } from '../../../core/pki/keys.ts';
export { isEncryptedKey } from '../../../core/pki/pem.ts';
export { parseSans } from '../../../core/pki/san.ts';
