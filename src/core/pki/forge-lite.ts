// node-forge's index loads all of forge (TLS, SSH, PKCS#7, pure-JS RSA, ...): 600 KB of
// JavaScript and about 25 ms at every start of the CLI. Certificates need only its ASN.1 codec
// (with util and oids), so the pki modules load those parts and nothing else.

import type Forge from 'node-forge';
import forgeBase from 'node-forge/lib/forge.js';
import 'node-forge/lib/asn1.js';

/** The shared forge object, with `asn1`, `util` and `oids` registered. */
const forge = forgeBase as typeof Forge;
export default forge;

export type Asn1 = Forge.asn1.Asn1;
export type ByteStringBuffer = Forge.util.ByteStringBuffer;
