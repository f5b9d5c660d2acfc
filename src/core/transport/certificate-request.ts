// What the server said during the handshake, read from the raw bytes it sent us: whether it asked
// for a client certificate (CertificateRequest), which CA names and signature algorithms it
// accepts, and any alerts. TLS 1.2 sends all of this in plaintext. TLS 1.3 encrypts everything after
// the ServerHello; the client's own `keylog` lines give the server's traffic secrets, from which
// HKDF-Expand-Label (RFC 8446 §7.1, §7.3) derives the record key and IV to decrypt them. Only bytes
// the server sent to this very connection are read; nothing here weakens the connection.

import { createDecipheriv, createHmac } from 'node:crypto';

const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPLICATION_DATA = 23;
const HS_SERVER_HELLO = 2;
const HS_CERTIFICATE = 11;
const HS_CERTIFICATE_REQUEST = 13;
const HS_FINISHED = 20;

/** TLS 1.3 cipher suites: AEAD, key length, hash of the HKDF. */
const TLS13_SUITES: Record<number, { cipher: string; keyLength: number; hash: string; name: string }> = {
  4865: { cipher: 'aes-128-gcm', keyLength: 16, hash: 'sha256', name: 'TLS_AES_128_GCM_SHA256' },
  4866: { cipher: 'aes-256-gcm', keyLength: 32, hash: 'sha384', name: 'TLS_AES_256_GCM_SHA384' },
  4867: {
    cipher: 'chacha20-poly1305',
    keyLength: 32,
    hash: 'sha256',
    name: 'TLS_CHACHA20_POLY1305_SHA256',
  },
};

/** ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3). */
const HELLO_RETRY_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

export const SIGNATURE_SCHEMES: Record<number, string> = {
  513: 'rsa_pkcs1_sha1',
  515: 'ecdsa_sha1',
  769: 'rsa_pkcs1_sha224',
  770: 'dsa_sha224',
  771: 'ecdsa_sha224',
  1025: 'rsa_pkcs1_sha256',
  1026: 'dsa_sha256',
  1027: 'ecdsa_secp256r1_sha256',
  1281: 'rsa_pkcs1_sha384',
  1282: 'dsa_sha384',
  1283: 'ecdsa_secp384r1_sha384',
  1537: 'rsa_pkcs1_sha512',
  1538: 'dsa_sha512',
  1539: 'ecdsa_secp521r1_sha512',
  2052: 'rsa_pss_rsae_sha256',
  2053: 'rsa_pss_rsae_sha384',
  2054: 'rsa_pss_rsae_sha512',
  2055: 'ed25519',
  2056: 'ed448',
  2057: 'rsa_pss_pss_sha256',
  2058: 'rsa_pss_pss_sha384',
  2059: 'rsa_pss_pss_sha512',
};

/** TLS alert descriptions (RFC 8446 §6). */
export const ALERT_NAMES: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

/** "certificate_required (116)" */
export function alertName(code: number): string {
  return `${ALERT_NAMES[code] ?? 'unknown_alert'} (${code})`;
}

const CERT_TYPES: Record<number, string> = { 1: 'rsa_sign', 2: 'dss_sign', 64: 'ecdsa_sign' };

export interface CertificateRequestInfo {
  /** DER of each DistinguishedName in certificate_authorities, in the server's order. */
  certificateAuthorities: Buffer[];
  signatureAlgorithms: string[];
  /** TLS 1.2 only: certificate_types. */
  certificateTypes?: string[];
}

export interface ServerAlert {
  level: 'warning' | 'fatal' | string;
  code: number;
  name: string;
  /** whether it arrived encrypted (TLS 1.3) */
  encrypted: boolean;
}

export interface ServerFlight {
  version?: 'TLSv1.2' | 'TLSv1.3';
  cipherSuite?: number;
  helloRetryRequest?: boolean;
  /** undefined when the flight could not be read far enough to tell (e.g. no keys). */
  certificateRequested?: boolean;
  certificateRequest?: CertificateRequestInfo;
  /** DER certificates from the server's Certificate message, leaf first. */
  serverCertificates?: Buffer[];
  alerts: ServerAlert[];
  /** handshake message types seen, in order */
  messages: number[];
  /** why the analysis stopped early, if it did */
  incomplete?: string;
}

interface TlsRecord {
  type: number;
  header: Buffer;
  body: Buffer;
}

/** Splits a byte stream into TLS records (a trailing partial record is ignored). */
export function splitRecords(buf: Buffer): TlsRecord[] {
  const out: TlsRecord[] = [];
  for (let o = 0; o + 5 <= buf.length; ) {
    const len = buf.readUInt16BE(o + 3);
    if (o + 5 + len > buf.length) break;
    out.push({ type: buf[o], header: buf.subarray(o, o + 5), body: buf.subarray(o + 5, o + 5 + len) });
    o += 5 + len;
  }
  return out;
}

/** Handshake messages in a concatenation of handshake-record payloads. */
export function splitHandshakeMessages(buf: Buffer): Array<{ type: number; body: Buffer }> {
  const out: Array<{ type: number; body: Buffer }> = [];
  for (let o = 0; o + 4 <= buf.length; ) {
    const len = buf.readUIntBE(o + 1, 3);
    if (o + 4 + len > buf.length) break;
    out.push({ type: buf[o], body: buf.subarray(o + 4, o + 4 + len) });
    o += 4 + len;
  }
  return out;
}

/** A bounds-checked reader: malformed input throws, it never reads past the end. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    public o = 0,
  ) {}
  get left() {
    return this.buf.length - this.o;
  }
  private need(n: number) {
    if (n > this.left) throw new Error('truncated TLS message');
  }
  u8() {
    this.need(1);
    return this.buf[this.o++];
  }
  u16() {
    this.need(2);
    const v = this.buf.readUInt16BE(this.o);
    this.o += 2;
    return v;
  }
  u24() {
    this.need(3);
    const v = this.buf.readUIntBE(this.o, 3);
    this.o += 3;
    return v;
  }
  bytes(n: number) {
    this.need(n);
    const v = this.buf.subarray(this.o, this.o + n);
    this.o += n;
    return v;
  }
  vec8() {
    return this.bytes(this.u8());
  }
  vec16() {
    return this.bytes(this.u16());
  }
  vec24() {
    return this.bytes(this.u24());
  }
}

function signatureSchemeList(b: Buffer): string[] {
  const r = new Reader(b);
  const out: string[] = [];
  while (r.left >= 2) {
    const v = r.u16();
    out.push(SIGNATURE_SCHEMES[v] ?? `0x${v.toString(16).padStart(4, '0')}`);
  }
  return out;
}

/** DistinguishedName certificate_authorities<3..2^16-1>: a list of opaque DER names. */
function distinguishedNames(b: Buffer): Buffer[] {
  const r = new Reader(b);
  const out: Buffer[] = [];
  while (r.left > 0) out.push(Buffer.from(r.vec16()));
  return out;
}

/** TLS 1.2 CertificateRequest (RFC 5246 §7.4.4). */
export function parseCertificateRequest12(body: Buffer): CertificateRequestInfo {
  const r = new Reader(body);
  const certificateTypes = [...r.vec8()].map((t) => CERT_TYPES[t] ?? String(t));
  const signatureAlgorithms = signatureSchemeList(r.vec16());
  const certificateAuthorities = distinguishedNames(r.vec16());
  return { certificateTypes, signatureAlgorithms, certificateAuthorities };
}

/** TLS 1.3 CertificateRequest (RFC 8446 §4.3.2): context, then extensions. */
export function parseCertificateRequest13(body: Buffer): CertificateRequestInfo {
  const r = new Reader(body);
  r.vec8(); // certificate_request_context
  const ext = new Reader(r.vec16());
  const out: CertificateRequestInfo = { certificateAuthorities: [], signatureAlgorithms: [] };
  while (ext.left >= 4) {
    const type = ext.u16();
    const data = ext.vec16();
    if (type === 13) out.signatureAlgorithms = signatureSchemeList(new Reader(data).vec16());
    if (type === 47) out.certificateAuthorities = distinguishedNames(new Reader(data).vec16());
  }
  return out;
}

/** Certificate message: TLS 1.2 is a list of DER certs; TLS 1.3 adds a context and per-entry extensions. */
export function parseCertificateMessage(body: Buffer, tls13: boolean): Buffer[] {
  const r = new Reader(body);
  if (tls13) r.vec8();
  const list = new Reader(r.vec24());
  const out: Buffer[] = [];
  while (list.left > 0) {
    out.push(Buffer.from(list.vec24()));
    if (tls13) list.vec16();
  }
  return out;
}

/** ServerHello: the cipher suite and whether it negotiated TLS 1.3 (supported_versions) or is an HRR. */
export function parseServerHello(body: Buffer): { suite: number; tls13: boolean; helloRetry: boolean } {
  const r = new Reader(body);
  r.u16(); // legacy_version
  const random = r.bytes(32);
  r.vec8(); // session id
  const suite = r.u16();
  r.u8(); // compression
  let tls13 = false;
  if (r.left >= 2) {
    const ext = new Reader(r.vec16());
    while (ext.left >= 4) {
      const type = ext.u16();
      const data = ext.vec16();
      if (type === 43 && data.length >= 2 && data.readUInt16BE(0) === 0x0304) tls13 = true;
    }
  }
  return { suite, tls13, helloRetry: random.equals(HELLO_RETRY_RANDOM) };
}

/** HKDF-Expand-Label (RFC 8446 §7.1) for outputs no longer than one hash block. */
export function hkdfExpandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'ascii');
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, full.length]),
    full,
    Buffer.from([0]), // empty context
  ]);
  const out = createHmac(hash, secret)
    .update(Buffer.concat([info, Buffer.from([1])]))
    .digest();
  if (length > out.length) throw new Error('HKDF-Expand-Label: length longer than one block');
  return out.subarray(0, length);
}

/** A record decryptor for one traffic secret (RFC 8446 §5.2, §5.3); null when the record does not decrypt. */
export function recordDecryptor(suite: number, secret: Buffer) {
  const s = TLS13_SUITES[suite];
  if (!s) throw new Error(`unsupported TLS 1.3 cipher suite 0x${suite.toString(16)}`);
  const key = hkdfExpandLabel(s.hash, secret, 'key', s.keyLength);
  const iv = hkdfExpandLabel(s.hash, secret, 'iv', 12);
  let seq = 0n;
  return (rec: TlsRecord): { type: number; data: Buffer } | null => {
    if (rec.body.length < 17) return null;
    const nonce = Buffer.from(iv);
    const seqBytes = Buffer.alloc(8);
    seqBytes.writeBigUInt64BE(seq);
    for (let k = 0; k < 8; k++) nonce[4 + k] ^= seqBytes[k];
    try {
      const d = createDecipheriv(s.cipher as 'aes-128-gcm', key, nonce, { authTagLength: 16 });
      d.setAAD(rec.header);
      d.setAuthTag(rec.body.subarray(-16));
      const plain = Buffer.concat([d.update(rec.body.subarray(0, -16)), d.final()]);
      seq++;
      // TLSInnerPlaintext: content, the real content type, zero padding.
      let end = plain.length - 1;
      while (end >= 0 && plain[end] === 0) end--;
      if (end < 0) return null;
      return { type: plain[end], data: plain.subarray(0, end) };
    } catch {
      return null;
    }
  };
}

function alertOf(data: Buffer, encrypted: boolean): ServerAlert | undefined {
  if (data.length < 2) return undefined;
  const level = data[0] === 1 ? 'warning' : data[0] === 2 ? 'fatal' : String(data[0]);
  return { level, code: data[1], name: ALERT_NAMES[data[1]] ?? 'unknown_alert', encrypted };
}

/** The secret of a keylog line such as `SERVER_HANDSHAKE_TRAFFIC_SECRET <client_random> <secret>`. */
function secretOf(keylog: string[], label: string): Buffer | undefined {
  const line = keylog.find((l) => l.startsWith(`${label} `));
  const hex = line?.trim().split(/\s+/)[2];
  return hex ? Buffer.from(hex, 'hex') : undefined;
}

/**
 * Reads the bytes a server sent on one connection.
 * @param rx every byte received from the server, in order
 * @param keylog the client's NSS key log lines (the TLSSocket `keylog` event), needed for TLS 1.3
 */
export function analyzeServerFlight(rx: Buffer, keylog: string[]): ServerFlight {
  const flight: ServerFlight = { alerts: [], messages: [] };
  const records = splitRecords(rx);
  let i = 0;
  let plain = Buffer.alloc(0);
  // The plaintext part: ServerHello (TLS 1.3), or the whole server flight (TLS 1.2).
  for (; i < records.length && records[i].type !== CT_APPLICATION_DATA; i++) {
    const rec = records[i];
    if (rec.type === CT_HANDSHAKE) plain = Buffer.concat([plain, rec.body]);
    if (rec.type === CT_ALERT) {
      const a = alertOf(rec.body, false);
      if (a) flight.alerts.push(a);
    }
    // ChangeCipherSpec: in TLS 1.2 what follows is encrypted with keys we do not derive; in TLS 1.3
    // (compatibility mode) encrypted records follow.
    if (rec.type === 20) {
      i++;
      break;
    }
  }
  for (const m of splitHandshakeMessages(plain)) {
    flight.messages.push(m.type);
    if (m.type === HS_SERVER_HELLO) {
      const sh = parseServerHello(m.body);
      if (sh.helloRetry) {
        flight.helloRetryRequest = true;
        continue;
      }
      flight.cipherSuite = sh.suite;
      flight.version = sh.tls13 ? 'TLSv1.3' : 'TLSv1.2';
    } else if (flight.version === 'TLSv1.2') {
      if (m.type === HS_CERTIFICATE) flight.serverCertificates = parseCertificateMessage(m.body, false);
      if (m.type === HS_CERTIFICATE_REQUEST) flight.certificateRequest = parseCertificateRequest12(m.body);
      if (m.type === 14) flight.certificateRequested = !!flight.certificateRequest; // ServerHelloDone
    }
  }
  if (flight.version !== 'TLSv1.3') {
    if (flight.certificateRequest) flight.certificateRequested = true;
    if (flight.version === 'TLSv1.2' && flight.certificateRequested === undefined)
      flight.incomplete = 'the server flight ended before ServerHelloDone';
    // Alerts after the TLS 1.2 handshake are encrypted; the plaintext ones were collected above.
    return flight;
  }

  const suite = flight.cipherSuite!;
  const hsSecret = secretOf(keylog, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
  if (!hsSecret || !TLS13_SUITES[suite]) {
    flight.incomplete = hsSecret
      ? `cipher suite 0x${suite.toString(16)} is not supported`
      : 'no TLS 1.3 handshake secret';
    return flight;
  }
  const handshake = recordDecryptor(suite, hsSecret);
  const appSecret = secretOf(keylog, 'SERVER_TRAFFIC_SECRET_0');
  const application = appSecret ? recordDecryptor(suite, appSecret) : undefined;
  let hs = Buffer.alloc(0);
  let inApplication = false;
  for (; i < records.length; i++) {
    const rec = records[i];
    if (rec.type === CT_ALERT) {
      const a = alertOf(rec.body, false);
      if (a) flight.alerts.push(a);
      continue;
    }
    if (rec.type !== CT_APPLICATION_DATA) continue; // compatibility-mode ChangeCipherSpec
    let p = inApplication ? null : handshake(rec);
    if (!p) {
      inApplication = true;
      p = application ? application(rec) : null;
    }
    if (!p) break; // not for these keys (e.g. after a key update): stop reading
    if (p.type === CT_HANDSHAKE && !inApplication) hs = Buffer.concat([hs, p.data]);
    if (p.type === CT_ALERT) {
      const a = alertOf(p.data, true);
      if (a) flight.alerts.push(a);
    }
  }
  let finished = false;
  for (const m of splitHandshakeMessages(hs)) {
    flight.messages.push(m.type);
    if (m.type === HS_CERTIFICATE_REQUEST) flight.certificateRequest = parseCertificateRequest13(m.body);
    if (m.type === HS_CERTIFICATE) flight.serverCertificates = parseCertificateMessage(m.body, true);
    if (m.type === HS_FINISHED) {
      finished = true;
      break;
    }
  }
  // Without the server's Finished we cannot be sure a CertificateRequest was not still to come.
  if (finished || flight.certificateRequest) flight.certificateRequested = !!flight.certificateRequest;
  else flight.incomplete ??= 'the encrypted server flight was not complete';
  return flight;
}

export function tls13SuiteName(suite: number): string | undefined {
  return TLS13_SUITES[suite]?.name;
}
