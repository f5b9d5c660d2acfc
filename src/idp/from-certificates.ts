// The embedded IdP set up from the files `mtls-oauth certs init` wrote: the client certificate is
// registered twice (tls_client_auth with its subject DN, self_signed_tls_client_auth with the
// certificate itself), the CA is trusted for client certificates, and the IdP's own server
// certificate (localhost, 127.0.0.1, ::1) is issued from that CA in memory — or given. Every input
// is checked before anything listens; failures are usage errors with a hint. No file is written.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode, type MtlsOAuthError, usageError } from '../core/errors.ts';
import { readInputFile } from '../core/files.ts';
import { parseDn } from '../core/pki/dn.ts';
import { issueCertificate, loadCa } from '../core/pki/issue.ts';
import { keyMatchesCertificate, loadPrivateKey, readCertificates } from '../core/pki/pem.ts';
import { parseSans } from '../core/pki/san.ts';
import { selfSignedClient, tlsClientAuthClient } from './clients.ts';
import { rfc4514Subject } from './referee.ts';
import {
  type ResourceServer,
  type ResourceServerOptions,
  resourceServerClient,
  startResourceServer,
} from './resource-server.ts';
import { type EmbeddedIdp, startEmbeddedIdp } from './server.ts';

/**
 * A user to log in as on the embedded IdP's login page. The page (oidc-provider's development
 * login) accepts any login name with any password: this one is only the one the instructions name.
 */
export const TEST_USER = { login: 'alice', password: 'alice' };

export interface IdpFromCertificatesInput {
  /** The client certificate to register (default ./certs/client.crt). */
  cert: string;
  /** Its key, for the instructions only (default: beside the certificate, client.crt → client.key). */
  key?: string;
  /** The CA trusted for client certificates, and the issuer of the server certificate (default: ca.crt beside `cert`). */
  caCert?: string;
  /** The CA's key (default: ca.key beside `caCert`); unused with `serverCert`. */
  caKey?: string;
  /** Asked for the CA key's passphrase when the key is encrypted. */
  caKeyPassphrase?: (keyPath: string) => Promise<string>;
  /** A server certificate and key (PEM) to use instead of one issued from the CA. */
  serverCert?: string;
  serverKey?: string;
  /** client_id of the tls_client_auth client (default: the certificate's CN when a plain word, else "client"). */
  clientId?: string;
  port?: number;
  mtlsPort?: number;
  onRequest?: Parameters<typeof startEmbeddedIdp>[0]['onRequest'];
  /** Serve a protected API too (resource-server.ts), enforcing the binding, on this port (0: a free one). */
  api?: { port?: number; onRequest?: ResourceServerOptions['onRequest'] };
}

export interface IdpFromCertificates {
  idp: EmbeddedIdp;
  clients: {
    tlsClientAuth: { clientId: string; subjectDn: string };
    selfSigned: { clientId: string };
  };
  /** The files a client uses with it: certificate and key, and the trust for the IdP's server certificate. */
  files: { cert: string; key: string; ca: string };
  /** Where the server certificate came from. */
  serverCertificate: { issuedBy?: string; file?: string; subject: string };
  /** The protected API, with `api`: introspects as `apiClientId` with the server certificate. */
  api?: ResourceServer & { clientId: string };
  warnings: string[];
  /** Closes the API and the IdP. */
  close(): Promise<void>;
}

const CERTS_INIT_HINT =
  'run `mtls-oauth certs init` first (it writes certs/ca.crt, ca.key, client.crt, client.key)';

function missing(path: string, what: string, flag: string): MtlsOAuthError {
  return usageError('INPUT_UNREADABLE', `no ${what} at ${path}`, {
    hint: `${CERTS_INIT_HINT}, or give ${flag} FILE`,
  });
}

/** A file that must exist: a usage error naming `certs init` when it does not. */
function readRequired(path: string, what: string, flag: string): Buffer {
  if (!existsSync(path)) throw missing(path, what, flag);
  return readInputFile(path, what);
}

function defaultClientId(subject: string): string {
  const m = /^CN=([A-Za-z0-9._-]+)(,|$)/.exec(subject);
  return m ? m[1] : 'client';
}

export async function startIdpFromCertificates(
  input: IdpFromCertificatesInput,
): Promise<IdpFromCertificates> {
  const warnings: string[] = [];
  const cert = readCertificates(readRequired(input.cert, 'client certificate', '--cert'), input.cert)[0];
  const key = input.key ?? input.cert.replace(/\.(crt|pem|cer)$/i, '') + '.key';
  if (!existsSync(key)) warnings.push(`no client key at ${key}: give --key FILE to the commands that use it`);
  const caPath = input.caCert ?? join(dirname(input.cert), 'ca.crt');
  const caPem = readRequired(caPath, 'CA certificate', '--ca-cert');
  const caCert = readCertificates(caPem, caPath, { what: 'CA certificate' })[0];
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) {
    warnings.push(
      `${input.cert} was not issued by ${caPath}: tls_client_auth will refuse it (self_signed_tls_client_auth still works)`,
    );
  }

  let server: { cert: string; key: string };
  let serverCertificate: IdpFromCertificates['serverCertificate'];
  let trust = caPath;
  // What a client of the IdP trusts for its server certificate (the API presents the same one).
  let trustPem = caPem.toString('utf8');
  if (input.serverCert !== undefined || input.serverKey !== undefined) {
    if (input.serverCert === undefined || input.serverKey === undefined) {
      throw usageError('BAD_ARGUMENTS', 'give both --server-cert and --server-key, or neither', {
        hint: 'without them the server certificate is issued from the CA for localhost, 127.0.0.1 and ::1',
      });
    }
    const certPem = readInputFile(input.serverCert, 'server certificate');
    const chain = readCertificates(certPem, input.serverCert, { what: 'server certificate' });
    const leaf = chain[0];
    const keyPem = readInputFile(input.serverKey, 'server key');
    const serverKey = loadPrivateKey(keyPem, input.serverKey);
    if (!keyMatchesCertificate(serverKey, leaf)) {
      throw usageError('KEY_MISMATCH', `${input.serverKey} is not the private key of ${input.serverCert}`, {
        hint: 'give the key that belongs to the server certificate',
      });
    }
    if (!leaf.checkIP('127.0.0.1')) {
      warnings.push(
        `${input.serverCert} does not name IP 127.0.0.1 (the issuer's host): clients will refuse it`,
      );
    }
    const fromCa = leaf.checkIssued(caCert) && leaf.verify(caCert.publicKey);
    if (!fromCa) {
      trust = input.serverCert;
      trustPem = chain.map((c) => c.toString()).join('');
    }
    // PEM whatever the files held (DER is accepted too), the chain kept.
    server = {
      cert: chain.map((c) => c.toString()).join(''),
      key: serverKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    serverCertificate = { file: input.serverCert, subject: leaf.subject.replace(/\n/g, ', ') };
  } else {
    const caKeyPath = input.caKey ?? join(dirname(caPath), 'ca.key');
    const caInput = {
      cert: caPem,
      certSource: caPath,
      key: readRequired(caKeyPath, 'CA key (to issue the server certificate)', '--ca-key'),
      keySource: caKeyPath,
    };
    let ca: ReturnType<typeof loadCa>;
    try {
      ca = loadCa(caInput);
    } catch (e) {
      if (errnoCode(e) !== 'KEY_PASSPHRASE_REQUIRED' || !input.caKeyPassphrase) throw e;
      ca = loadCa({ ...caInput, passphrase: await input.caKeyPassphrase(caKeyPath) });
    }
    const issued = await issueCertificate(ca, {
      subject: parseDn('CN=localhost'),
      profile: 'server',
      sans: parseSans('dns:localhost,ip:127.0.0.1,ip:::1'),
      days: 30,
    });
    warnings.push(...issued.warnings);
    server = { cert: issued.pem, key: issued.keyPem };
    serverCertificate = { issuedBy: caPath, subject: 'CN=localhost (DNS localhost, IP 127.0.0.1, ::1)' };
  }

  const clientId = input.clientId ?? defaultClientId(rfc4514Subject(cert));
  const tls = tlsClientAuthClient(clientId, cert);
  const selfSigned = selfSignedClient(`${clientId}-self-signed`, cert);
  const apiClientId = `${clientId}-api`;
  let idp: EmbeddedIdp;
  try {
    idp = await startEmbeddedIdp({
      server,
      clientCas: readCertificates(caPem, caPath, { what: 'CA certificate' }).map((c) => c.toString()),
      clients: [tls, selfSigned, ...(input.api ? [resourceServerClient(apiClientId, server.cert)] : [])],
      aliases: true,
      port: input.port,
      mtlsPort: input.mtlsPort,
      onRequest: input.onRequest,
    });
  } catch (e) {
    throw listenError(e, input);
  }
  let api: IdpFromCertificates['api'];
  if (input.api) {
    try {
      const rs = await startResourceServer({
        server,
        introspection: {
          url: idp.aliases?.introspection_endpoint ?? idp.endpoints.introspection,
          clientId: apiClientId,
          cert: server.cert,
          key: server.key,
          ca: trustPem,
        },
        port: input.api.port,
        onRequest: input.api.onRequest,
      });
      api = Object.assign(rs, { clientId: apiClientId });
    } catch (e) {
      await idp.close();
      throw listenError(e, { ...input, apiPort: input.api.port });
    }
  }
  return {
    idp,
    clients: {
      tlsClientAuth: { clientId, subjectDn: tls.tls_client_auth_subject_dn as string },
      selfSigned: { clientId: selfSigned.client_id },
    },
    files: { cert: input.cert, key, ca: trust },
    serverCertificate,
    ...(api ? { api } : {}),
    warnings,
    close: async () => {
      await api?.close();
      await idp.close();
    },
  };
}

function listenError(e: unknown, input: IdpFromCertificatesInput & { apiPort?: number }): unknown {
  const code = errnoCode(e);
  const port = (e as { port?: number }).port;
  if (code === 'EADDRINUSE') {
    return usageError('PORT_IN_USE', `port ${port} on 127.0.0.1 is already in use`, {
      hint: `choose another ${port === input.apiPort ? '--api-port' : port === input.mtlsPort ? '--mtls-port' : '--port'}, or leave it out for a free one`,
      cause: e,
    });
  }
  if (code === 'EACCES') {
    return usageError('PORT_DENIED', `not allowed to listen on port ${port} of 127.0.0.1`, {
      hint: 'use a port above 1023, or leave --port out for a free one',
      cause: e,
    });
  }
  return e;
}
