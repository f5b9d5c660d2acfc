// The Kong configuration for a client-certificate setup the tool has proven: a Certificate entity
// (the client certificate and, only when asked, its key), CA Certificate entities for the IdP's
// server CA, and the openid-connect plugin. Every field carries the reason for its value, which the
// renderers (render.ts) print as a comment beside it. Field names: Kong's OpenID Connect plugin
// reference, cited in docs/kong.md.
//
//   const facts = factsFromSmoke(report, { issuer, identity, caPems });
//   const config = kongConfig(facts);      // entities + reasons, no private key
//   renderDeck(config) / renderAdminApi(config)

import type { X509Certificate } from 'node:crypto';
import type { AuthMethod } from '../client-auth.ts';
import { usageError } from '../errors.ts';
import type { SmokeReport } from '../smoke/index.ts';
import { entityId } from './ids.ts';

/** The client authentication methods Kong's openid-connect plugin names as we do (client_auth). */
export type MtlsAuthMethod = Extract<AuthMethod, 'tls_client_auth' | 'self_signed_tls_client_auth'>;

/** What the configuration is built from: the run's settings and what smoke proved about them. */
export interface KongFacts {
  issuer: string;
  clientId: string;
  authMethod: MtlsAuthMethod;
  /** The client certificate, leaf first, then the intermediates it was given with. */
  chain: X509Certificate[];
  x5tS256: string;
  /** The IdP's server CA certificates (--ca), when given. */
  caCertificates: X509Certificate[];
  caSource?: string;
  /** Certificate-bound tokens: proven (smoke's binding), proven absent, or not checked. */
  binding: { bound: true; how: string } | { bound: false; why: string } | { bound: undefined; why: string };
  /** The mTLS aliases (RFC 8705 §5) smoke used, by endpoint. */
  aliases: Partial<Record<'token' | 'introspection' | 'revocation', string>>;
  /** The discovery document smoke read, when it did. */
  discoveryUrl?: string;
  /** What verified the setup: "mtls-oauth smoke (discovery pass, ...)", or undefined with --no-verify. */
  verifiedBy?: string;
  /** Attach the plugin to this Service (name or id) instead of globally. */
  service?: string;
  /** The run skipped the IdP's server certificate check (--insecure). */
  insecure?: boolean;
}

export interface Field<T = unknown> {
  value: T;
  /** Why the field has this value: a comment in the output. */
  why: string;
}

export interface KongCertificate {
  id: string;
  /** PEM: the leaf, then the intermediates. */
  cert: string;
  tags: string[];
  why: string;
}

export interface KongConfig {
  certificate: KongCertificate;
  caCertificates: KongCertificate[];
  plugin: {
    id: string;
    service?: string;
    tags: string[];
    why: string;
    /** openid-connect's config, in output order. */
    config: Record<string, Field>;
  };
  /** Lines said once at the top: what produced this and what it proves. */
  header: string[];
}

export const KONG_TAG = 'mtls-oauth';
export const PLUGIN_DOCS = 'https://developer.konghq.com/plugins/openid-connect/reference/';

const fingerprint = (c: X509Certificate) => c.fingerprint256.replace(/:/g, '').toLowerCase();

/** Smoke's proof, read for Kong: the method that worked, binding, the aliases it used. */
export function factsFromSmoke(
  report: SmokeReport,
  o: Pick<KongFacts, 'issuer' | 'chain' | 'x5tS256' | 'caCertificates' | 'caSource' | 'service' | 'insecure'>,
): KongFacts {
  const step = (name: string) => report.steps.find((s) => s.name === name);
  const binding = step('binding');
  const introspect = step('introspect');
  // An opaque token's binding can show in introspection only (its `binding` check).
  const viaIntrospection = introspect?.checks?.find((c) => c.status === 'pass' && c.name === 'binding');
  const facts: KongFacts = {
    ...o,
    clientId: report.clientId,
    authMethod: mtlsMethod(report.authMethod),
    binding:
      binding?.status === 'pass'
        ? { bound: true, how: `smoke's binding step: ${binding.detail}` }
        : viaIntrospection
          ? { bound: true, how: `smoke's introspection: ${viaIntrospection.detail ?? 'cnf matches'}` }
          : { bound: false, why: `smoke found no certificate binding (${binding?.detail ?? 'not checked'})` },
    aliases: {},
    verifiedBy: `mtls-oauth smoke (${report.steps.map((s) => `${s.name} ${s.status}`).join(', ')})`,
  };
  const discovery = step('discovery')?.data as { documentUrl?: string } | undefined;
  if (discovery?.documentUrl) facts.discoveryUrl = discovery.documentUrl;
  for (const op of ['token', 'introspection', 'revocation'] as const) {
    const e = report.endpoints[op];
    if (e?.via === 'mtls alias') facts.aliases[op] = e.url;
  }
  return facts;
}

/** Kong's openid-connect authenticates with a certificate only through these two methods. */
export function mtlsMethod(method: AuthMethod): MtlsAuthMethod {
  if (method === 'tls_client_auth' || method === 'self_signed_tls_client_auth') return method;
  throw usageError(
    'KONG_NOT_MTLS',
    `kong prints the configuration of mTLS client authentication, not ${method}`,
    {
      hint: 'authenticate with a client certificate: --cert FILE --key FILE (or --p12 FILE) and --auth tls_client_auth or self_signed_tls_client_auth',
    },
  );
}

const AUTH_WHY: Record<MtlsAuthMethod, string> = {
  tls_client_auth:
    'RFC 8705 §2.1: the IdP authenticates the client by its CA-issued certificate (subject DN or SAN registered at the IdP)',
  self_signed_tls_client_auth:
    'RFC 8705 §2.2: the IdP authenticates the client by its self-signed certificate, registered (or in its JWKS) at the IdP',
};

export function kongConfig(f: KongFacts): KongConfig {
  const leaf = f.chain[0];
  const certId = entityId('certificate', fingerprint(leaf));
  const proof = f.verifiedBy ? "smoke's token request worked with it" : 'NOT verified (--no-verify)';
  const config: Record<string, Field> = {
    issuer: {
      value: f.issuer,
      why: `the IdP's issuer; Kong reads its discovery document${f.discoveryUrl ? ` (${f.discoveryUrl})` : ''}`,
    },
    client_id: {
      value: [f.clientId],
      why: `the client registered at the IdP for this certificate; ${proof}`,
    },
    client_auth: { value: [f.authMethod], why: `${AUTH_WHY[f.authMethod]}; ${proof}` },
    tls_client_auth_cert_id: {
      value: certId,
      why: `the Certificate entity above (${leaf.subject.replace(/\n/g, ', ')}), presented to the IdP in the TLS handshake`,
    },
    tls_client_auth_ssl_verify: {
      value: true,
      why: `verify the IdP's server certificate on the mTLS connections (Kong trusts the CAs of lua_ssl_trusted_certificate)${f.insecure ? '; this run used --insecure: give Kong the IdP CA before enabling' : ''}`,
    },
    ssl_verify: {
      value: true,
      why: "verify the IdP's server certificate on discovery and JWKS requests too; never turned off",
    },
  };
  const ALIAS_FIELD = {
    token: 'mtls_token_endpoint',
    introspection: 'mtls_introspection_endpoint',
    revocation: 'mtls_revocation_endpoint',
  } as const;
  for (const [op, url] of Object.entries(f.aliases) as Array<[keyof typeof ALIAS_FIELD, string]>) {
    config[ALIAS_FIELD[op]] = {
      value: url,
      why: `the IdP's mtls_endpoint_aliases.${op}_endpoint (RFC 8705 §5), used by smoke with the certificate; Kong reads it from discovery too, pinned here`,
    };
  }
  config.proof_of_possession_mtls =
    f.binding.bound === true
      ? {
          value: 'strict',
          why: `the IdP binds access tokens to the client certificate (cnf.x5t#S256, RFC 8705 §3): ${f.binding.how}. Kong then accepts a token only from a caller presenting that certificate (enable client certificates on the route, e.g. the mtls-auth or tls-handshake-modifier plugin)`,
        }
      : {
          value: 'off',
          why:
            f.binding.bound === false
              ? `${f.binding.why}: strict would refuse every token. Set "strict" once the IdP issues certificate-bound tokens`
              : `${f.binding.why}. Set "strict" once \`mtls-oauth smoke\` shows certificate-bound tokens`,
        };

  const caCertificates = f.caCertificates.map((ca) => ({
    id: entityId('ca_certificate', fingerprint(ca)),
    cert: ca.toString(),
    tags: [KONG_TAG],
    why: `the CA of the IdP's server certificate (${ca.subject.replace(/\n/g, ', ')}${f.caSource ? `, from ${f.caSource}` : ''}). openid-connect verifies the IdP against lua_ssl_trusted_certificate in kong.conf: add this PEM there too`,
  }));

  return {
    certificate: {
      id: certId,
      cert: f.chain.map((c) => c.toString()).join(''),
      tags: [KONG_TAG],
      why: `the client certificate (x5t#S256 ${f.x5tS256}) and its key, for tls_client_auth_cert_id. The id is derived from the certificate's SHA-256 fingerprint: the same certificate always gets the same id`,
    },
    caCertificates,
    plugin: {
      id: entityId('plugin', f.issuer, f.clientId, fingerprint(leaf), f.service ?? ''),
      ...(f.service ? { service: f.service } : {}),
      tags: [KONG_TAG],
      why: `openid-connect for ${f.issuer} as client ${f.clientId}${f.service ? ` on Service ${f.service}` : ' (global: pass --service NAME to attach it to one Service)'}; fields: ${PLUGIN_DOCS}`,
      config,
    },
    header: [
      `Kong configuration written by mtls-oauth kong for ${f.issuer}, client ${f.clientId}.`,
      f.verifiedBy
        ? `Verified first: ${f.verifiedBy}.`
        : 'NOT verified (--no-verify): run `mtls-oauth smoke` with the same settings before relying on it.',
      'Entity ids are derived from the certificate fingerprint, issuer and client: re-running gives the same ids.',
    ],
  };
}

/** --no-verify: the settings alone, nothing proven (no binding, no aliases). */
export function unverifiedFacts(
  o: Pick<
    KongFacts,
    | 'issuer'
    | 'clientId'
    | 'authMethod'
    | 'chain'
    | 'x5tS256'
    | 'caCertificates'
    | 'caSource'
    | 'service'
    | 'insecure'
  >,
): KongFacts {
  return { ...o, binding: { bound: undefined, why: 'binding not checked (--no-verify)' }, aliases: {} };
}
