// The closed vocabulary of error codes: every `code` the tool reports (in `.error.code` under
// --json, in a smoke step's error, in the exit status through its kind) is a key of ERROR_CODES.
// One failure has one code whatever the command, and each code has one kind, so one exit code:
// MtlsOAuthError takes its kind from here. docs/errors.md lists the same table for people
// (test/unit/error-codes.test.ts keeps the two in step).

export type ErrorKind =
  | 'usage' // bad flags or input the user gave (exit 2)
  | 'network' // DNS, TCP, TLS, HTTP transport (exit 3)
  | 'oauth' // the IdP answered with an OAuth error (exit 4)
  | 'timeout' // exit 5
  | 'check' // a verification the user asked for failed (exit 1)
  | 'interrupted' // exit 130
  | 'internal'; // a bug: exit 1 with a request to report it

export interface ErrorCodeInfo {
  readonly kind: ErrorKind;
  /** One line: what went wrong, for the error table in docs/errors.md. */
  readonly meaning: string;
}

const usage = (meaning: string) => ({ kind: 'usage', meaning }) as const;
const network = (meaning: string) => ({ kind: 'network', meaning }) as const;
const oauth = (meaning: string) => ({ kind: 'oauth', meaning }) as const;
const check = (meaning: string) => ({ kind: 'check', meaning }) as const;

export const ERROR_CODES = {
  // --- command line and settings
  BAD_ARGUMENTS: usage('arguments or options that exclude or need each other'),
  BAD_USAGE: usage('an unknown command or option, or a missing or extra argument'),
  TOKEN_TWICE: usage('a token given both as an argument and with --from-cache'),
  EXPECT_BOTH: usage('--expect-active and --expect-inactive together'),
  GRANT_OPTION: usage('an option that belongs to another grant'),
  UNKNOWN_GRANT: usage('a grant type the command does not know or cannot use'),
  MISSING_GRANT_INPUT: usage('the grant lacks an input it needs (code, refresh token, username, ...)'),
  BAD_TOKEN_TYPE: usage('a token type that is neither a registered name nor a URI (RFC 8693 §3)'),
  UNKNOWN_AUTH_METHOD: usage('an unknown client authentication method (--auth)'),
  UNKNOWN_KEY_TYPE: usage('an unknown key type (--key-type)'),
  MISSING_URL: usage('no URL to probe'),
  BAD_URL: usage('a URL that is not a URL, or not https (http only on loopback)'),
  BAD_HEADER: usage('a request header (call -H) that is not "Name: value", or one call sets itself'),
  BAD_EXPECT_STATUS: usage('--expect-status that is not an HTTP status (200) or class (2xx)'),
  NO_API: usage('no API URL: neither an argument nor --api / MTLS_OAUTH_API / profile "api"'),
  BAD_ISSUER: usage('an issuer that is not an https URL without query or fragment'),
  MISSING_ISSUER: usage('the command or step needs --issuer'),
  MISSING_CLIENT_ID: usage('no client_id'),
  MISSING_CLIENT_SECRET: usage('the authentication method needs a client secret and none is set'),
  MISSING_SIGNING_KEY: usage('private_key_jwt or --request-object without a signing key'),
  SIGNING_KEY_TYPE: usage('a signing key of a type client assertions cannot be signed with'),
  NO_ENDPOINT: usage('no URL for an endpoint: neither in the metadata nor given with a flag'),
  UNKNOWN_SECURITY_PROFILE: usage('a --security-profile the tool does not know (fapi2)'),
  PAR_UNAVAILABLE: usage('PAR (RFC 9126) asked for or required, but the IdP has no PAR endpoint'),
  NO_CLIENT_CERT: usage('an mTLS request without a client certificate configured'),
  BAD_PROXY: usage('a proxy setting that is not an http:// proxy URL'),
  BAD_CONNECT_TO: usage('a --connect-to that is not HOST:PORT:HOST2:PORT2'),
  BAD_PARAM: usage('an extra parameter (-p) that is not key=value, or is given twice'),
  BAD_PORT: usage('a port (--port, --mtls-port, a callback port) that is not a port number'),
  PORT_IN_USE: usage('the port to listen on (callback, test IdP) is in use'),
  PORT_DENIED: usage('not allowed to listen on the port'),
  BAD_TIMEOUT: usage('a timeout that is not a number of seconds in range'),
  BAD_DAYS: usage('a validity (--days) that is not a whole number of days in range'),
  BAD_NAME: usage('a file name base (--name) that is not a plain name'),
  BAD_STEPS: usage('an empty or unknown smoke step in --steps'),
  BAD_EXPECT_FAIL: usage('an --expect-fail that names an unknown step or no error'),
  BAD_FROM_CACHE: usage('--from-cache other than access or refresh'),
  BAD_PRINT: usage('a --print other than access-token or header'),
  BAD_TOKEN_TYPE_HINT: usage('a --token-type-hint other than access_token or refresh_token'),
  BAD_ENV_NAME: usage('an option naming an environment variable with an invalid name'),
  ENV_NOT_SET: usage('the environment variable an option names is not set'),
  NO_TOKEN: usage('no token given (argument, stdin or cache)'),
  NO_CACHED_TOKEN: usage('no cached token for this issuer and client'),
  NO_REFRESH_TOKEN: usage('the refresh_token grant without a refresh token'),
  NO_PASSWORD: usage('the password grant without a password and no terminal to ask'),
  SECRET_REQUIRED: usage('a password is needed and there is no terminal to ask it on'),
  SECRET_MISMATCH: usage('the two entries of a new password differ'),
  SECRET_EMPTY: usage('an empty password'),

  // --- configuration file
  CONFIG_JSON: usage('the config file is not valid JSON'),
  CONFIG_SHAPE: usage('the config file does not hold a JSON object'),
  CONFIG_TYPE: usage('a setting of the wrong type or value'),
  CONFIG_UNKNOWN_KEY: usage('an unknown key in the config file'),
  PROFILE_NOT_FOUND: usage('the requested profile is not in the config file'),
  CONFIG_INSECURE: usage('a config file another user could have written (owner or mode)'),
  CONFIG_SECRET_EXPOSED: usage('a config file that holds a secret is readable by others'),
  CONFIG_KEY_NOT_ALLOWED: usage('a config file sets a key taken only from a flag or the environment'),
  CACHED_TOKEN_ELSEWHERE: usage('a cached token would go to another origin than the one that issued it'),

  // --- files
  INPUT_UNREADABLE: usage('an input file (certificate, key, CA, config, signing key) cannot be read'),
  OUTPUT_UNWRITABLE: usage('an output file cannot be written (permission, space, not a directory)'),
  OUTPUT_EXISTS: usage('output files already exist (--force replaces them)'),
  OUTPUT_SYMLINK: usage('an output path is a symbolic link'),
  OUTPUT_IS_DIRECTORY: usage('an output path is a directory'),
  OUTPUT_NOT_FILE: usage('an output path exists and is not a regular file'),
  OUTPUT_IS_CA: usage("an output path is the CA's own file"),
  OUTPUT_IS_INPUT: usage("an output path is one of the command's input files"),

  // --- kong
  KONG_KEY_TO_STDOUT: usage('kong --include-key without -o FILE: the private key never goes to stdout'),
  KONG_NO_ISSUER: usage("kong without --issuer: Kong's openid-connect plugin needs it"),
  KONG_NO_CLIENT_ID: usage("kong without --client-id: Kong's openid-connect plugin needs it"),
  KONG_NOT_MTLS: usage('kong with a client authentication method that is not mTLS'),
  KONG_NO_KEY: usage('kong --include-key and no private key to include'),

  // --- certificates, keys, PKCS#12
  CORRUPT_PEM: usage('a PEM file with a block cut short or bad base64'),
  NO_CERTIFICATE: usage('a file that holds no certificate'),
  BAD_CERTIFICATE: usage('a certificate that cannot be parsed or used'),
  BAD_KEY: usage('a file that holds no private key, or one that cannot be read'),
  KEY_PASSPHRASE_REQUIRED: usage('an encrypted private key and no passphrase'),
  KEY_PASSPHRASE: usage('the wrong passphrase for an encrypted private key'),
  KEY_MISMATCH: usage('a private key that does not belong to the certificate'),
  BAD_P12: usage('a file that is not a valid PKCS#12 file'),
  P12_PASSWORD_REQUIRED: usage('a password-protected PKCS#12 file and no password'),
  P12_PASSWORD: usage('the wrong password for a PKCS#12 file'),
  P12_UNSUPPORTED: usage('a PKCS#12 file using an algorithm this tool does not read'),
  DPOP_KEY_MISSING: usage('a token bound to a DPoP key (cnf.jkt) that is not at hand (--dpop-key)'),
  FILE_LIMIT: usage(
    'a file over a limit: its size, or a PKCS#12 iteration or bag count (src/core/limits.ts)',
  ),
  BAD_SUBJECT: usage('a subject (--cn / --subject) that is not a valid distinguished name'),
  BAD_SAN: usage('a subject alternative name that is not TYPE:VALUE of a known type'),
  CA_NOT_CA: usage('the CA certificate is not a CA (basicConstraints)'),
  CA_NO_KEYCERTSIGN: usage('the CA certificate may not sign certificates (keyUsage)'),
  CA_KEY_UNSUPPORTED: usage("the CA's key is of a type this tool cannot sign with"),

  // --- login (authorization code flow)
  AUTHZ_ENDPOINT_INVALID: usage('an authorization endpoint that is not an https URL without fragment'),
  AUTHZ_PARAM_RESERVED: usage('an extra parameter (-p) that login sets itself'),
  AUTHZ_NONCE_MISSING: usage('an OpenID request without a nonce'),
  PKCE_VERIFIER_INVALID: usage('a PKCE code verifier outside RFC 7636 §4.1'),
  REDIRECT_URI_INVALID: usage('a --redirect-uri that is not a loopback http URL'),
  CALLBACK_OPTIONS_CONFLICT: usage('--redirect-uri contradicts --port or --callback-path'),
  CALLBACK_HOST_NOT_LOOPBACK: usage('a callback host other than 127.0.0.1 or ::1'),
  CALLBACK_HOST_UNAVAILABLE: usage('the callback address does not exist on this machine'),
  CALLBACK_PATH_INVALID: usage('a callback path that is not an absolute path'),
  CALLBACK_TIMEOUT_INVALID: usage('a callback timeout out of range'),
  CALLBACK_STATE_MISSING: usage('a callback listener without the state to expect'),
  PASTE_INVALID: usage('login --paste: the pasted text is not a URL at the redirect URI'),
  CALLBACK_LISTEN_FAILED: network('the callback listener could not start'),
  CALLBACK_TIMEOUT: { kind: 'timeout', meaning: 'no authorization response arrived in time' },
  DEVICE_CODE_EXPIRED: {
    kind: 'timeout',
    meaning: 'the device login was not approved before its user code expired (RFC 8628)',
  },
  CALLBACK_CLOSED: { kind: 'interrupted', meaning: 'the callback listener was closed before a response' },
  CALLBACK_INVALID: check('an authorization response without code or state, or with the wrong state'),
  ISS_MISSING: check('the authorization response lacks the iss the IdP promised (RFC 9207)'),
  FAPI2_NOT_MET: check('a FAPI 2.0 Security Profile requirement the IdP did not meet (docs/fapi2.md)'),
  ISS_MISMATCH: check('the authorization response comes from another issuer (RFC 9207)'),
  AUTHORIZATION_ERROR: oauth('the IdP answered the authorization request with an error'),
  ID_TOKEN_ALG_FORBIDDEN: usage('an ID token algorithm that is never accepted (none, HS*)'),
  ID_TOKEN_MISSING: check('no id_token although the scope includes openid'),
  ID_TOKEN_INVALID: check('the ID token does not validate (signature, iss, aud, exp, nonce, ...)'),
  JWKS_HTTP_STATUS: network("the IdP's JWKS answered with an HTTP error"),
  JWKS_INVALID: check("the IdP's JWKS holds no keys array"),

  // --- network, TLS, HTTP
  TIMEOUT: { kind: 'timeout', meaning: 'a request got no answer in time (--timeout)' },
  DNS_FAILURE: network('the host name cannot be resolved'),
  CONNECTION_REFUSED: network('nothing listens on the host and port'),
  CONNECTION_FAILED: network('the connection failed or was closed (unreachable, reset, handshake)'),
  NOT_TLS: network('the server did not answer with TLS: the port speaks plain HTTP'),
  TLS_EXPECTED: network('a plain http:// request to a port that speaks TLS'),
  PROXY_FAILED: network('the proxy cannot be reached or refused the tunnel'),
  TLS_SERVER_SELF_SIGNED: network("the server's chain ends in a self-signed certificate that is not trusted"),
  TLS_SERVER_UNTRUSTED: network("the server's certificate is not trusted"),
  TLS_SERVER_EXPIRED: network("the server's certificate has expired or is not yet valid"),
  TLS_HOSTNAME_MISMATCH: network("the server's certificate is for another name"),
  TLS_CLIENT_CERT_REQUIRED: network('the server requires a client certificate and none was sent'),
  TLS_CLIENT_CA_NOT_ACCEPTED: network('the client certificate is not from a CA the server accepts'),
  TLS_CLIENT_CERT_REJECTED: network('the server rejected the client certificate in the handshake'),
  NOT_JSON: network('an answer that is not JSON where JSON was expected'),
  HTTP_ERROR: network('an HTTP error status without an OAuth error body'),
  RESPONSE_TOO_LARGE: network('a response body larger than the limit'),
  HEADERS_TOO_LARGE: network('response headers larger than the limit'),
  JSON_TOO_DEEP: network('a JSON answer nested deeper than the limit'),
  RESPONSE_INCOMPLETE: network('the connection closed in the middle of the response'),
  DISCOVERY_NOT_FOUND: network('no discovery document at any well-known URL'),

  // --- checks
  CHECK_FAILED: check('a check of the command failed'),
  SMOKE_FAILED: check('one or more smoke steps failed'),
  KONG_UNVERIFIED: check('kong refused to print a configuration: a smoke step failed'),
  EXPECTED_FAILURE: check('a smoke step expected to fail (--expect-fail) did not'),
  DISCOVERY_INVALID: check('the discovery document is invalid'),
  BINDING_MISMATCH: check('the token is not bound to the certificate sent (RFC 8705 cnf.x5t#S256)'),
  DPOP_NOT_BOUND: check('a token requested with DPoP is not bound to our DPoP key (RFC 9449 cnf.jkt)'),
  TOKEN_INACTIVE: check('introspection says the token is not active'),
  STILL_ACTIVE: check('the token is still active after revocation'),
  API_STATUS: check('the API answered another status than --expect-status'),
  API_BINDING_NOT_ENFORCED: check(
    'the API accepted a bound token without its certificate, or with another one',
  ),
  API_REFUSED: check('the API refused the bound token sent with its own certificate'),

  // --- answers from the IdP
  BAD_TOKEN_RESPONSE: oauth('a token response that breaks RFC 6749 §5.1'),
  BAD_PAR_RESPONSE: oauth('a PAR response without request_uri or expires_in (RFC 9126 §2.2)'),
  BAD_INTROSPECTION_RESPONSE: oauth('an introspection response without a boolean "active"'),
  BAD_DEVICE_RESPONSE: oauth('a device authorization response without what RFC 8628 §3.2 requires'),
  CLIENT_REFUSED: oauth('a bare HTTP 401/403 without an OAuth error body: the IdP refused the client'),
  REVOCATION_UNAVAILABLE: oauth('the IdP could not revoke the token now (HTTP 503)'),
  // An OAuth error response: OAUTH_ and the registered `error` value in capitals. Values outside
  // the registry (IANA "OAuth Extensions Error Registry") are OAUTH_OTHER; the value the IdP
  // sent is always in the message and in details.response.error.
  OAUTH_INVALID_REQUEST: oauth('invalid_request: a parameter is missing, repeated or malformed (RFC 6749)'),
  OAUTH_INVALID_CLIENT: oauth('invalid_client: client authentication failed (RFC 6749)'),
  OAUTH_INVALID_GRANT: oauth('invalid_grant: the code, refresh token or credentials were refused (RFC 6749)'),
  OAUTH_UNAUTHORIZED_CLIENT: oauth('unauthorized_client: the client may not use this grant (RFC 6749)'),
  OAUTH_UNSUPPORTED_GRANT_TYPE: oauth(
    'unsupported_grant_type: the IdP does not support the grant (RFC 6749)',
  ),
  OAUTH_INVALID_SCOPE: oauth('invalid_scope: a requested scope is unknown or not allowed (RFC 6749)'),
  OAUTH_ACCESS_DENIED: oauth('access_denied: the IdP refused the request (RFC 6749)'),
  OAUTH_SERVER_ERROR: oauth('server_error: the IdP failed (RFC 6749)'),
  OAUTH_TEMPORARILY_UNAVAILABLE: oauth('temporarily_unavailable: the IdP is overloaded or down (RFC 6749)'),
  OAUTH_INVALID_TOKEN: oauth('invalid_token: the token is expired, revoked or malformed (RFC 6750)'),
  OAUTH_INSUFFICIENT_SCOPE: oauth('insufficient_scope: the token lacks a scope (RFC 6750)'),
  OAUTH_UNSUPPORTED_TOKEN_TYPE: oauth(
    'unsupported_token_type: the IdP cannot revoke this kind of token (RFC 7009)',
  ),
  OAUTH_INVALID_TARGET: oauth('invalid_target: the resource or audience is unknown (RFC 8707)'),
  OAUTH_AUTHORIZATION_PENDING: oauth('authorization_pending: the user has not yet approved (RFC 8628)'),
  OAUTH_SLOW_DOWN: oauth('slow_down: polling too fast (RFC 8628)'),
  OAUTH_EXPIRED_TOKEN: oauth('expired_token: the device code has expired (RFC 8628)'),
  OAUTH_INVALID_DPOP_PROOF: oauth('invalid_dpop_proof: the DPoP proof was refused (RFC 9449)'),
  OAUTH_USE_DPOP_NONCE: oauth('use_dpop_nonce: the IdP wants a DPoP nonce (RFC 9449)'),
  OAUTH_INVALID_AUTHORIZATION_DETAILS: oauth(
    'invalid_authorization_details: refused authorization_details (RFC 9396)',
  ),
  OAUTH_INVALID_REDIRECT_URI: oauth(
    'invalid_redirect_uri: the redirect_uri is not registered for the client (RFC 7591)',
  ),
  OAUTH_INVALID_REQUEST_OBJECT: oauth(
    'invalid_request_object: the signed request object was refused (RFC 9101)',
  ),
  OAUTH_INVALID_REQUEST_URI: oauth(
    'invalid_request_uri: the request_uri is unknown, expired or used (RFC 9101, RFC 9126)',
  ),
  OAUTH_OTHER: oauth('an OAuth error value outside the registry; the value is in the message'),

  // --- the process
  INTERRUPTED: { kind: 'interrupted', meaning: 'Ctrl-C or a signal; nothing is left half written' },
  INTERNAL: { kind: 'internal', meaning: 'a bug in mtls-oauth (run with --debug and report it)' },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The kind a code always has. */
export type KindOf<C extends ErrorCode> = (typeof ERROR_CODES)[C]['kind'];

/** The codes of one kind, e.g. `CodeOfKind<'network'>`. */
export type CodeOfKind<K extends ErrorKind> = {
  [C in ErrorCode]: KindOf<C> extends K ? C : never;
}[ErrorCode];

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/** The code of an OAuth error response: OAUTH_<ERROR> for a registered value, else OAUTH_OTHER. */
export function oauthErrorCode(error: string): CodeOfKind<'oauth'> {
  const code = `OAUTH_${error.toUpperCase()}`;
  return isErrorCode(code) && ERROR_CODES[code].kind === 'oauth'
    ? (code as CodeOfKind<'oauth'>)
    : 'OAUTH_OTHER';
}
