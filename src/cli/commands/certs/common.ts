// What `certs init`, `certs issue` and `certs inspect` share: flag parsing and the way a
// certificate is shown to a person. Type-only imports from the core: nothing heavy loads here.

import { relative } from 'node:path';
import type { CertificateInfo } from '../../../core/pki/parse.ts';
import type { Ui } from '../../ui.ts';

/** commander collector for repeatable options (--san a --san b). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A path as the user will want to type it: relative to the current directory when inside it. */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !rel.startsWith('/') ? rel : path;
}

export function fmtDate(iso: string): string {
  return iso.replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
}

export function validityText(info: CertificateInfo): string {
  const v = info.validity;
  const state =
    v.status === 'expired'
      ? 'EXPIRED'
      : v.status === 'not-yet-valid'
        ? 'NOT YET VALID'
        : v.expiringSoon
          ? `expires in ${v.daysLeft} day${v.daysLeft === 1 ? '' : 's'}`
          : `${v.daysLeft} days left`;
  return `${fmtDate(info.notBefore)} to ${fmtDate(info.notAfter)} (${state})`;
}

/** The certificate without its PEM (for --json results where the file holds it). */
export function withoutPem(info: CertificateInfo): Omit<CertificateInfo, 'pem'> {
  const { pem: _pem, ...rest } = info;
  return rest;
}

/** The few lines that matter when a certificate was just made. */
export function summaryRows(info: CertificateInfo): Array<[string, string | undefined]> {
  return [
    ['Subject DN', info.subject],
    ['SANs', info.sans.length ? info.sans.join(', ') : '(none)'],
    ['Valid', validityText(info)],
    ['Key', `${info.publicKey.description}, signed with ${info.signatureAlgorithm}`],
    ['SHA-256', info.sha256Fingerprint],
    ['x5t#S256', info.x5tS256],
  ];
}

export function printFiles(ui: Ui, files: Array<{ path: string; note: string }>): void {
  const w = Math.max(...files.map((f) => shownPath(f.path).length));
  for (const f of files) ui.out(`  ${ui.c.cyan(shownPath(f.path).padEnd(w))}  ${f.note}`);
}

/** A client_id to show in examples: the CN when it is a plain word, else a placeholder. */
export function exampleClientId(info: CertificateInfo): string {
  const m = /^CN=([A-Za-z0-9._-]+)(,|$)/.exec(info.subject);
  return m ? m[1] : 'CLIENT_ID';
}
