// Subject alternative names as users type them: `dns:api.example.com,uri:spiffe://x,ip:10.0.0.1,email:a@b`.

import { isIP } from 'node:net';
import { usageError } from '../errors.ts';

export type SanType = 'dns' | 'uri' | 'ip' | 'email';
export interface San {
  type: SanType;
  value: string;
}

const HINT = 'write SANs as dns:NAME, uri:URI, ip:ADDRESS or email:ADDRESS, separated by commas';

export function parseSans(text: string | string[] | undefined): San[] {
  if (text === undefined) return [];
  const items = (Array.isArray(text) ? text : [text]).flatMap((t) => t.split(',')).map((s) => s.trim());
  return items
    .filter((s) => s !== '')
    .map((item) => {
      const colon = item.indexOf(':');
      const type = item.slice(0, colon).toLowerCase();
      const value = item.slice(colon + 1).trim();
      if (colon <= 0 || !value) throw usageError('BAD_SAN', `"${item}" is not TYPE:VALUE`, { hint: HINT });
      switch (type) {
        case 'dns':
          if (
            !/^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/.test(value)
          ) {
            throw usageError('BAD_SAN', `"${value}" is not a DNS name`, { hint: HINT });
          }
          return { type, value };
        case 'ip':
          if (!isIP(value)) throw usageError('BAD_SAN', `"${value}" is not an IP address`, { hint: HINT });
          return { type, value };
        case 'email':
          if (!/^[^@\s]+@[^@\s]+$/.test(value)) {
            throw usageError('BAD_SAN', `"${value}" is not an email address`, { hint: HINT });
          }
          return { type, value };
        case 'uri':
          if (!URL.canParse(value))
            throw usageError('BAD_SAN', `"${value}" is not an absolute URI`, { hint: HINT });
          return { type, value };
        default:
          throw usageError('BAD_SAN', `unknown SAN type "${type}" in "${item}"`, { hint: HINT });
      }
    });
}

export function formatSan(s: San): string {
  return `${s.type}:${s.value}`;
}
