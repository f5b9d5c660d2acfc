// Guards on a response body: a size limit while it is read (the declared content-length, then the
// bytes received), a nesting limit before JSON.parse, and JSON parsing that names what came instead.

import { MtlsOAuthError } from '../errors.ts';
import { stripBom } from '../redact.ts';
import type { ConnectionRecord } from './diagnostics.ts';

/** JSON from an OAuth endpoint nests a few levels; anything deeper is refused before it is parsed. */
export const MAX_JSON_DEPTH = 64;

/** Whether a JSON text nests arrays/objects deeper than `max` (a linear scan; strings skipped). */
export function jsonNestingExceeds(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92 /* \\ */) i++;
      else if (ch === 34 /* " */) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 123 /* { */ || ch === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (ch === 125 /* } */ || ch === 93 /* ] */) depth--;
  }
  return false;
}

/** JSON.parse, a leading byte order mark ignored (some gateways send one). */
export function parseJson(text: string): unknown {
  return JSON.parse(stripBom(text));
}

/** RESPONSE_TOO_LARGE: the body is over `limit` bytes (as announced, or as received). */
export function tooLargeError(
  url: URL,
  step: string | undefined,
  status: number,
  limit: number,
  contentType?: string,
  declared?: number,
): MtlsOAuthError {
  return new MtlsOAuthError(
    'network',
    'RESPONSE_TOO_LARGE',
    `${step ? `${step}: ` : ''}${url.host} sent a response body larger than ${limit} bytes${declared ? ` (content-length ${declared})` : ''}; stopped reading`,
    {
      hint: 'an OAuth endpoint answers with a few kilobytes: check the URL (is it a file download or a web page?)',
      details: { url: url.toString(), status, contentType: contentType ?? null, limit },
    },
  );
}

/**
 * Reads a body as UTF-8, at most `limit` bytes: `tooLarge()` is thrown (and the body destroyed)
 * when the content-length announces more or more arrives. `received.bytes` counts what came, for
 * the caller's message when the connection breaks in the middle.
 */
export async function readLimitedBody(
  body: AsyncIterable<unknown> & { destroy(): void },
  o: {
    limit: number;
    contentLength?: string;
    tooLarge: (declared?: number) => MtlsOAuthError;
    received: { bytes: number };
  },
): Promise<string> {
  const declared = Number(o.contentLength);
  if (Number.isFinite(declared) && declared > o.limit) {
    body.destroy();
    throw o.tooLarge(declared);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    o.received.bytes += (chunk as Buffer).length;
    if (o.received.bytes > o.limit) {
      body.destroy();
      throw o.tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The JSON in a body. JSON_TOO_DEEP for JSON nested deeper than MAX_JSON_DEPTH, whether JSON is
 * required or not; text that is not JSON: NOT_JSON when `required`, else undefined. `excerpt` gives
 * the (redacted) start of the body for the error; absent when the body must not be quoted.
 */
export function parseJsonBody(
  text: string,
  o: {
    required: boolean;
    url: URL;
    step?: string;
    status: number;
    contentType?: string;
    excerpt?: () => string;
    tls?: ConnectionRecord;
  },
): unknown {
  const where = `${o.step ? `${o.step}: ` : ''}${o.url.host} answered HTTP ${o.status}`;
  if (/^\s*[[{]/.test(text) && jsonNestingExceeds(text)) {
    throw new MtlsOAuthError(
      'network',
      'JSON_TOO_DEEP',
      `${where} with JSON nested more than ${MAX_JSON_DEPTH} levels deep; refused`,
      {
        hint: 'an OAuth or OpenID document nests a few levels at most: the URL probably points at something else, or the server is misbehaving',
        details: {
          url: o.url.toString(),
          status: o.status,
          contentType: o.contentType ?? null,
          ...(o.excerpt ? { bodyStart: o.excerpt() } : {}),
          ...(o.tls ? { tls: o.tls } : {}),
        },
      },
    );
  }
  try {
    return parseJson(text);
  } catch {
    if (!o.required) return undefined;
    const start = o.excerpt ? o.excerpt() : '';
    const what = text.trim() === '' ? 'an empty body' : `${o.contentType ?? 'no content type'}`;
    const html = /html/i.test(o.contentType ?? '') || /^\s*</.test(text);
    throw new MtlsOAuthError(
      'network',
      'NOT_JSON',
      `${where} with ${what} instead of JSON${start ? `: "${start}"` : ''}`,
      {
        hint: html
          ? 'an HTML page usually comes from a proxy, a login page or a wrong URL: check the endpoint URL (run `mtls-oauth discover ISSUER`) and any proxy in between'
          : 'check the endpoint URL; run with -v to see the whole response',
        details: {
          url: o.url.toString(),
          status: o.status,
          contentType: o.contentType ?? null,
          bodyStart: start,
          ...(o.tls ? { tls: o.tls } : {}),
        },
      },
    );
  }
}
