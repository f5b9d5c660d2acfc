// PKCS#12 (RFC 7292) for any key type: a client certificate, its chain and its private key in one
// password-protected file, as Windows, Java, browsers, curl and Node's `pfx` option take it.
//
// node-forge's own PKCS#12 writer knows only RSA keys and certificates and always MACs with SHA-1,
// so the structure is written here with forge's ASN.1 codec and Node's crypto does the crypto:
// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key and the certificates, and an HMAC-SHA-256
// MAC over the contents — what `openssl pkcs12 -export` writes by default since OpenSSL 3.
// The reader also takes the older forms (3DES, RC2, SHA-1 MACs) that other tools still write.
//
//   write.ts       buildP12: a key, its certificate and chain into one file
//   read.ts        readP12: the file opened, the MAC checked, key and certificates out
//   decrypt.ts     the encryption schemes the reader takes (PBES2, PKCS#12 PBE 3DES/RC2)
//   kdf.ts         the PKCS#12 key-derivation function
//   algorithms.ts  the algorithm identifiers

export { pkcs12Kdf } from './kdf.ts';
export { looksLikeP12, type P12Contents, readP12 } from './read.ts';
export { buildP12, type P12Options } from './write.ts';
