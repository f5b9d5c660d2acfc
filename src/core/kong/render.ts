// Renders a KongConfig (config.ts) for a gateway engineer to paste:
//   deck       a decK state file (_format_version "3.0"), each field with its reason as a comment
//   admin-api  a POSIX shell script of Admin API requests (curl PUT by id: re-running updates)
//   object     the decK structure as data, for --json
// The private key appears only when `key` is given (--include-key, written to a 0600 file);
// otherwise decK reads it from DECK_CLIENT_KEY and the script from the file in CLIENT_KEY_FILE.

import { Document, isMap, isScalar, type Node, Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import type { KongConfig } from './config.ts';

export const KONG_FORMATS = ['deck', 'admin-api'] as const;
export type KongFormat = (typeof KONG_FORMATS)[number];

/** decK substitutes ${{ env "DECK_..." }} when it reads the file (only DECK_-prefixed names). */
export const DECK_KEY_ENV = 'DECK_CLIENT_KEY';
const DECK_KEY_REF = `\${{ env "${DECK_KEY_ENV}" }}`;

export interface RenderOptions {
  /** The client's private key, unencrypted PEM: only with --include-key. */
  key?: string;
  /** Where the key file is, for the admin-api script when the key is not included. */
  keyFile?: string;
}

const KEY_WHY_INCLUDED =
  'the private key (--include-key): this file is a secret, mode 0600; keep it out of version control';
const KEY_WHY_ENV = `not printed: decK reads it from ${DECK_KEY_ENV} (export ${DECK_KEY_ENV}="$(cat client.key)"), or rerun with --include-key -o FILE`;

/** The decK structure (no comments): what --json returns and what the YAML holds. */
export function deckObject(c: KongConfig, o: RenderOptions = {}): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    _format_version: '3.0',
    certificates: [
      {
        id: c.certificate.id,
        cert: c.certificate.cert,
        key: o.key ?? DECK_KEY_REF,
        tags: c.certificate.tags,
      },
    ],
  };
  if (c.caCertificates.length) {
    doc.ca_certificates = c.caCertificates.map((ca) => ({ id: ca.id, cert: ca.cert, tags: ca.tags }));
  }
  doc.plugins = [
    {
      id: c.plugin.id,
      name: 'openid-connect',
      ...(c.plugin.service ? { service: c.plugin.service } : {}),
      enabled: true,
      config: Object.fromEntries(Object.entries(c.plugin.config).map(([k, f]) => [k, f.value])),
      tags: c.plugin.tags,
    },
  ];
  return doc;
}

const comment = (text: string) =>
  wrap(text, 96)
    .map((l) => ` ${l}`)
    .join('\n');

/** Splits a reason into comment lines of at most `width` characters (words are never cut). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The decK YAML. Version 1.1 rules for quoting: decK's parser reads `off` unquoted as false. */
export function renderDeck(c: KongConfig, o: RenderOptions = {}): string {
  const doc = new Document(deckObject(c, o), { version: '1.1' });
  doc.commentBefore = c.header.map(comment).join('\n');
  const at = (path: Array<string | number>) => doc.getIn(path, true) as Node;
  const keyOf = (map: YAMLMap, name: string) =>
    map.items.find((p) => isScalar(p.key) && p.key.value === name)?.key as Scalar | undefined;
  const block = (path: Array<string | number>) => {
    const n = at(path);
    if (isScalar(n) && typeof n.value === 'string' && n.value.includes('\n')) n.type = Scalar.BLOCK_LITERAL;
  };

  (at(['certificates', 0]) as YAMLMap).commentBefore = comment(`Certificate entity: ${c.certificate.why}`);
  block(['certificates', 0, 'cert']);
  block(['certificates', 0, 'key']);
  const certMap = at(['certificates', 0]) as YAMLMap;
  const keyKey = keyOf(certMap, 'key');
  if (keyKey) keyKey.commentBefore = comment(o.key ? KEY_WHY_INCLUDED : KEY_WHY_ENV);

  c.caCertificates.forEach((ca, i) => {
    (at(['ca_certificates', i]) as YAMLMap).commentBefore = comment(`CA Certificate entity: ${ca.why}`);
    block(['ca_certificates', i, 'cert']);
  });

  const plugin = at(['plugins', 0]) as YAMLMap;
  plugin.commentBefore = comment(`Plugin: ${c.plugin.why}`);
  const config = at(['plugins', 0, 'config']);
  if (isMap(config)) {
    for (const [name, field] of Object.entries(c.plugin.config)) {
      const k = keyOf(config, name);
      if (k) k.commentBefore = comment(field.why);
    }
  }
  // Flow style would hide the comments; lists of one value stay readable in block style.
  for (const name of Object.keys(c.plugin.config)) {
    const v = doc.getIn(['plugins', 0, 'config', name], true) as YAMLSeq | undefined;
    if (v && 'flow' in v) v.flow = false;
  }
  return doc.toString({ lineWidth: 0 });
}

/** Quotes a value for a POSIX shell (single quotes; a quote inside becomes '\''). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const shComment = (text: string) => wrap(text, 96).map((l) => `# ${l}`);

/** The Admin API requests: PUT by id, so that running the script again updates in place. */
export function renderAdminApi(c: KongConfig, o: RenderOptions = {}): string {
  const lines: string[] = ['#!/bin/sh', ...shComment(c.header.join(' '))];
  lines.push(
    '# Admin API: PUT /certificates/{id}, PUT /ca_certificates/{id}, PUT /plugins/{id}',
    `# (or PUT /services/{service}/plugins/{id}). Set KONG_ADMIN_URL (and KONG_ADMIN_TOKEN if RBAC is on).`,
    'set -eu',
    `KONG_ADMIN_URL="\${KONG_ADMIN_URL:-http://localhost:8001}"`,
    // Kong Enterprise RBAC reads the token from the Kong-Admin-Token header.
    'set -- --silent --show-error --fail',
    `if [ -n "\${KONG_ADMIN_TOKEN:-}" ]; then set -- "$@" --header "Kong-Admin-Token: $KONG_ADMIN_TOKEN"; fi`,
    '',
  );

  lines.push(...shComment(`Certificate entity: ${c.certificate.why}`));
  lines.push(`CLIENT_CERT=${shellQuote(c.certificate.cert)}`);
  if (o.key) {
    lines.push(...shComment(KEY_WHY_INCLUDED), `CLIENT_KEY=${shellQuote(o.key)}`);
  } else {
    lines.push(
      ...shComment(
        'the private key is read from the file in CLIENT_KEY_FILE (unencrypted PEM), never printed',
      ),
      o.keyFile
        ? `CLIENT_KEY_FILE="\${CLIENT_KEY_FILE:-${o.keyFile.replace(/["\\$`]/g, '\\$&')}}"`
        : `CLIENT_KEY_FILE="\${CLIENT_KEY_FILE:?set CLIENT_KEY_FILE to the client private key (PEM)}"`,
    );
  }
  lines.push(
    `curl "$@" -X PUT "$KONG_ADMIN_URL/certificates/${c.certificate.id}" \\`,
    '  --form-string "cert=$CLIENT_CERT" \\',
    o.key ? '  --form-string "key=$CLIENT_KEY" \\' : '  --form "key=<$CLIENT_KEY_FILE" \\',
    ...c.certificate.tags.map((t) => `  --form-string ${shellQuote(`tags[]=${t}`)} \\`),
    '  > /dev/null',
    '',
  );

  for (const ca of c.caCertificates) {
    lines.push(...shComment(`CA Certificate entity: ${ca.why}`));
    lines.push(
      `curl "$@" -X PUT "$KONG_ADMIN_URL/ca_certificates/${ca.id}" \\`,
      `  --form-string ${shellQuote(`cert=${ca.cert}`)} \\`,
      ...ca.tags.map((t) => `  --form-string ${shellQuote(`tags[]=${t}`)} \\`),
      '  > /dev/null',
      '',
    );
  }

  lines.push(...shComment(`Plugin: ${c.plugin.why}`));
  for (const [name, f] of Object.entries(c.plugin.config)) lines.push(...shComment(`${name}: ${f.why}`));
  const body = {
    name: 'openid-connect',
    enabled: true,
    config: Object.fromEntries(Object.entries(c.plugin.config).map(([k, f]) => [k, f.value])),
    tags: c.plugin.tags,
  };
  const path = c.plugin.service
    ? `services/${encodeURIComponent(c.plugin.service)}/plugins/${c.plugin.id}`
    : `plugins/${c.plugin.id}`;
  lines.push(
    `curl "$@" -X PUT "$KONG_ADMIN_URL/${path}" \\`,
    "  --header 'Content-Type: application/json' \\",
    `  --data ${shellQuote(JSON.stringify(body, null, 2))} \\`,
    '  > /dev/null',
    `echo "Kong: certificate ${c.certificate.id} and openid-connect plugin ${c.plugin.id} in place"`,
    '',
  );
  return lines.join('\n');
}
