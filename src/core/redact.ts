// Secrets never appear in full in human output or logs unless the user asks for them.

/** `eyJhbG…(812 chars)`: enough to tell two tokens apart, not enough to use one. */
export function shorten(secret: string, keep = 6): string {
  if (secret.length <= keep * 2) return '…'.padStart(Math.min(secret.length, 3), '*');
  return `${secret.slice(0, keep)}…(${secret.length} chars)`;
}

/** Parameter and header names whose values are secrets. */
const SECRET_NAMES =
  /^(authorization|proxy-authorization|cookie|set-cookie|client_secret|client_assertion|code|code_verifier|access_token|refresh_token|id_token|token|assertion|password|subject_token|actor_token|device_code|private_key|passphrase)$/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAMES.test(name);
}

/** Redacts secret members of a flat or nested JSON value (a copy; the input is untouched). */
export function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        isSecretName(k) && typeof v === 'string' ? shorten(v) : redactJson(v),
      ]),
    );
  }
  return value;
}

/** Redacts secret parameters of an application/x-www-form-urlencoded body or a query string. */
export function redactForm(body: string): string {
  const params = new URLSearchParams(body);
  for (const [k, v] of params) if (isSecretName(k)) params.set(k, shorten(v));
  return params.toString();
}

/** Replaces every occurrence of the given secret values in free text. */
export function redactText(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 8) out = out.split(s).join(shorten(s));
  return out;
}
