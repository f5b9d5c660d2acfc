// node-forge's individual modules (see forge-lite.ts). Each registers itself on the shared forge
// object; the types are those of the whole package.
declare module 'node-forge/lib/forge.js' {
  const forge: unknown;
  export default forge;
}
declare module 'node-forge/lib/asn1.js';
declare module 'node-forge/lib/rc2.js';
