// Servers for transport tests, on 127.0.0.1 with ephemeral ports: Node https/tls servers (which
// close without an alert when they reject a client certificate), `openssl s_server` (which sends
// alerts), a TCP server that never answers (timeouts) and a port nothing listens on.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecureVersion, TLSSocket } from 'node:tls';

export interface Running {
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface HttpsOptions {
  cert: string;
  key: string;
  /** CAs trusted for client certificates; Node also lists their names in the CertificateRequest */
  ca?: string | string[];
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  /** default: 200 application/json {"ok":true,"client":SUBJECT|null} */
  handler?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
}

function closeServer(server: HttpsServer | NetServer, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    (server as HttpsServer).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** A Node https server; the default answer reports the client certificate's subject CN. */
export async function startHttpsServer(o: HttpsOptions): Promise<Running & { server: HttpsServer }> {
  const sockets = new Set<Socket>();
  const server = createHttpsServer(
    {
      cert: o.cert,
      key: o.key,
      ca: o.ca,
      requestCert: o.requestCert ?? !!o.ca,
      rejectUnauthorized: o.rejectUnauthorized ?? !!o.ca,
      minVersion: o.minVersion,
      maxVersion: o.maxVersion,
    },
    o.handler ??
      ((req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate?.();
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: true, client: peer?.subject?.CN ?? null }));
      }),
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, port, url: `https://127.0.0.1:${port}`, close: () => closeServer(server, sockets) };
}

/** A plain HTTP server (no TLS) answering 200 {"ok":true}: for a TLS client on a plain port. */
export async function startPlainHttpServer(): Promise<Running> {
  const { createServer } = await import('node:http');
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, url: `http://127.0.0.1:${port}`, close: () => closeServer(server as never, sockets) };
}

/** Accepts TCP connections and never says anything (for timeouts). */
export async function startSilentServer(): Promise<Running> {
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, url: `https://127.0.0.1:${port}`, close: () => closeServer(server, sockets) };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A directory for PEM files that tests hand to other programs; removed by the returned function. */
export function tempFiles(files: Record<string, string | Buffer>): {
  dir: string;
  path(name: string): string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-oauth-test-'));
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(dir, name), content, { mode: 0o600 });
  return {
    dir,
    path: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface OpensslOptions {
  cert: string;
  key: string;
  /** CAs trusted for client certificates (-CAfile) */
  ca?: string;
  /** 'require' = -Verify 1 (a client certificate is mandatory), 'request' = -verify 1, 'none';
   *  'request-unenforced' = -verify 1 without -verify_return_error: asks, names its CAs, and
   *  completes the handshake whatever the client sends (as many IdPs behind a load balancer do) */
  clientAuth?: 'require' | 'request' | 'request-unenforced' | 'none';
  /** -no_ca_names: do not list acceptable CA names in the CertificateRequest */
  noCaNames?: boolean;
  tls12?: boolean;
}

/** `openssl s_server -www` on an ephemeral port (it sends TLS alerts when it rejects a certificate). */
export async function startOpensslServer(o: OpensslOptions): Promise<Running & { output(): string }> {
  const files = tempFiles({ 'server.crt': o.cert, 'server.key': o.key, ...(o.ca ? { 'ca.crt': o.ca } : {}) });
  const args = [
    's_server',
    '-accept',
    '127.0.0.1:0',
    '-cert',
    files.path('server.crt'),
    '-key',
    files.path('server.key'),
    '-www',
  ];
  if (o.ca) args.push('-CAfile', files.path('ca.crt'));
  // -verify_return_error: without it s_server logs a bad client certificate and carries on.
  if (o.clientAuth === 'require') args.push('-Verify', '1', '-verify_return_error');
  if (o.clientAuth === 'request') args.push('-verify', '1', '-verify_return_error');
  if (o.clientAuth === 'request-unenforced') args.push('-verify', '1');
  if (o.noCaNames) args.push('-no_ca_names');
  if (o.tls12) args.push('-tls1_2');
  const child: ChildProcess = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`openssl s_server did not start:\n${out}`)), 10_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(/ACCEPT .*:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`openssl s_server exited (${code}):\n${out}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    output: () => out,
    close: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          files.remove();
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

const DAY = 86_400_000;

/** A self-signed server certificate (a leaf, not a CA): what Node calls DEPTH_ZERO_SELF_SIGNED_CERT. */
async function selfSignedServer(subject: string, sans: string) {
  const { X509Certificate } = await import('node:crypto');
  const { buildCertificate, derToPem } = await import('../../src/core/pki/certificate.ts');
  const { parseDn } = await import('../../src/core/pki/dn.ts');
  const { generateKey, privateKeyPem } = await import('../../src/core/pki/keys.ts');
  const { parseSans } = await import('../../src/core/pki/san.ts');
  const kp = await generateKey('ec-p256');
  const dn = parseDn(subject);
  const der = buildCertificate({
    profile: 'server',
    subject: dn,
    issuer: dn,
    publicKey: kp.publicKey,
    signingKey: kp.privateKey,
    issuerPublicKey: kp.publicKey,
    sans: parseSans(sans),
    notAfter: new Date(Date.now() + 30 * DAY),
  });
  return { cert: derToPem(der), key: privateKeyPem(kp.privateKey), x509: new X509Certificate(der) };
}

/**
 * Every certificate the transport tests need, made in-process, and written (with the keys, mode
 * 0600) into a temporary directory for the code and programs that read files. Call remove().
 */
export async function makeTransportPki() {
  const { makeCa } = await import('./pki.ts');
  const ca = await makeCa('CN=Test CA,O=mtls-oauth tests');
  const ca2 = await makeCa('CN=Second CA,OU=Platform,O=Example\\, Inc.,C=US');
  const other = await makeCa('CN=Other CA,O=Elsewhere');
  const now = Date.now();
  const loopback = 'dns:localhost,ip:127.0.0.1,ip:::1';
  const server = await ca.issue({ subject: 'CN=localhost', profile: 'server', sans: loopback });
  const serverOtherCa = await other.issue({ subject: 'CN=localhost', profile: 'server', sans: loopback });
  const serverWrongHost = await ca.issue({
    subject: 'CN=wrong.example',
    profile: 'server',
    sans: 'dns:wrong.example',
  });
  const serverExpired = await ca.issue({
    subject: 'CN=localhost',
    profile: 'server',
    sans: loopback,
    notBefore: new Date(now - 30 * DAY),
    notAfter: new Date(now - DAY),
  });
  const selfSigned = await selfSignedServer('CN=localhost,O=Self Signed', loopback);
  const client = await ca.issue({ subject: 'CN=kong' });
  const clientOtherCa = await other.issue({ subject: 'CN=stranger' });
  const clientExpired = await ca.issue({
    subject: 'CN=kong-expired',
    notBefore: new Date(now - 30 * DAY),
    notAfter: new Date(now - DAY),
  });
  const clientNotYetValid = await ca.issue({
    subject: 'CN=kong-future',
    notBefore: new Date(now + 10 * DAY),
    notAfter: new Date(now + 30 * DAY),
  });
  const { createPrivateKey } = await import('node:crypto');
  const encryptedKey = createPrivateKey(client.key).export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: 'correct horse',
  }) as string;
  const files = tempFiles({
    'ca.crt': ca.cert,
    'ca2.crt': ca2.cert,
    'other-ca.crt': other.cert,
    'both-ca.crt': ca.cert + ca2.cert,
    'client.crt': client.cert,
    'client.key': client.key,
    'client-enc.key': encryptedKey,
    'client-other.crt': clientOtherCa.cert,
    'client-other.key': clientOtherCa.key,
    'client-expired.crt': clientExpired.cert,
    'client-expired.key': clientExpired.key,
    'client-future.crt': clientNotYetValid.cert,
    'client-future.key': clientNotYetValid.key,
    'wrong.key': clientOtherCa.key,
  });
  // PKCS#12 by the openssl CLI: the format users bring.
  const { execFileSync } = await import('node:child_process');
  execFileSync('openssl', [
    'pkcs12',
    '-export',
    '-in',
    files.path('client.crt'),
    '-inkey',
    files.path('client.key'),
    '-certfile',
    files.path('ca.crt'),
    '-out',
    files.path('client.p12'),
    '-passout',
    'pass:p12 secret',
  ]);
  return {
    ca,
    ca2,
    other,
    server,
    serverOtherCa,
    serverWrongHost,
    serverExpired,
    selfSigned,
    client,
    clientOtherCa,
    clientExpired,
    clientNotYetValid,
    files,
    path: files.path,
    remove: files.remove,
  };
}
export type TransportPki = Awaited<ReturnType<typeof makeTransportPki>>;
