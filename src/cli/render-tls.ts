// Human rendering of ConnectionRecords: the `tls` command's story, and the per-connection summary
// other commands print with -v. Type-only imports from the core, so this file loads nothing heavy.

import type { CertSummary, ConnectionRecord } from '../core/transport/diagnostics.ts';
import { type Colors, table, type Ui } from './ui.ts';

const day = (iso: string) => iso.slice(0, 10);

function validity(c: CertSummary, paint: Colors, now = new Date().toISOString()): string {
  const range = `${day(c.notBefore)} .. ${day(c.notAfter)}`;
  if (c.notAfter < now) return paint.red(`${range} (expired)`);
  if (c.notBefore > now) return paint.red(`${range} (not yet valid)`);
  const days = Math.floor((Date.parse(c.notAfter) - Date.now()) / 86_400_000);
  return days < 14 ? paint.yellow(`${range} (${days} days left)`) : range;
}

function certLines(c: CertSummary, i: number, paint: Colors, indent: string): string[] {
  const rows: Array<[string, string | undefined]> = [
    ['subject', c.subject],
    ['issuer', c.issuer === c.subject ? `${c.issuer} ${paint.dim('(self-signed)')}` : c.issuer],
    ['valid', validity(c, paint)],
    ['SANs', c.sans.length ? c.sans.join(', ') : undefined],
    ['SHA-256', c.sha256],
  ];
  const [first, ...rest] = table(rows, `${indent}   `);
  return [`${indent}${i}: ${first.trimStart()}`, ...rest];
}

/** The whole TLS story of one connection, for a person. */
export function renderConnection(r: ConnectionRecord, paint: Colors, indent = '  '): string[] {
  const out: string[] = [];
  const yes = (s: string) => paint.green(s);
  const no = (s: string) => paint.red(s);
  const t = r.timings;
  out.push(
    paint.bold(`Connection to ${r.target}${r.proxy ? ` via proxy ${r.proxy}` : ''}`) +
      paint.dim(
        [
          t.tcpMs !== undefined ? `  tcp ${t.tcpMs} ms` : '',
          t.tlsMs !== undefined ? `, tls ${t.tlsMs} ms` : '',
        ].join(''),
      ),
  );
  if (r.scheme === 'http:') {
    out.push(`${indent}${paint.yellow('plain HTTP: no TLS, no client certificate possible')}`);
    return out;
  }
  const rows: Array<[string, string | undefined]> = [
    [
      'protocol',
      r.protocol ?? (r.timings.tcpMs !== undefined ? no('handshake did not complete') : undefined),
    ],
    ['cipher', r.cipher],
    ['ALPN', r.alpn ?? undefined],
    ['SNI', r.servername ?? (r.protocol ? paint.dim('(none: IP address)') : undefined)],
    ['session', r.sessionReused === undefined ? undefined : r.sessionReused ? 'resumed' : 'new'],
  ];
  out.push(...table(rows, indent));
  if (r.serverChain.length) {
    out.push(`${indent}server certificate chain (as sent):`);
    r.serverChain.forEach((c, i) => {
      out.push(...certLines(c, i, paint, `${indent}  `));
    });
  }
  if (r.protocol || r.verifyError) {
    out.push(
      `${indent}server certificate: ${
        r.verified
          ? yes('verified')
          : r.insecure
            ? paint.yellow(`NOT verified (${r.verifyError}), ignored because of --insecure`)
            : no(`NOT verified: ${r.verifyError ?? 'unknown'}`)
      }`,
    );
  }
  const req = r.clientCertRequested;
  out.push(
    `${indent}client certificate requested: ${
      req === true
        ? 'yes'
        : req === false
          ? 'no'
          : paint.dim(r.sessionReused ? 'n/a (resumed session)' : 'unknown')
    }`,
  );
  if (req) {
    if (r.acceptableCAs?.length) {
      out.push(`${indent}  acceptable CAs:`);
      for (const ca of r.acceptableCAs) out.push(`${indent}    ${ca}`);
    } else {
      out.push(`${indent}  acceptable CAs: ${paint.dim('(none named: any CA the server trusts)')}`);
    }
    if (r.signatureAlgorithms?.length)
      out.push(`${indent}  signature algorithms: ${paint.dim(r.signatureAlgorithms.join(' '))}`);
  }
  if (r.clientCertSent) {
    out.push(`${indent}client certificate sent: ${r.clientCertSent.subject}`);
    out.push(`${indent}  x5t#S256: ${r.clientCertSent.x5tS256}`);
  } else if (req) {
    out.push(
      `${indent}client certificate sent: ${r.clientCertConfigured ? 'no' : no('no (none configured)')}`,
    );
  } else if (r.clientCertConfigured) {
    out.push(
      `${indent}client certificate configured: ${r.clientCertConfigured.subject} ${paint.dim('(not asked for)')}`,
    );
  }
  if (r.alerts?.length) out.push(`${indent}alerts from the server: ${no(r.alerts.join(', '))}`);
  if (r.error)
    out.push(
      `${indent}first socket error: ${no(`${r.error.code}`)} ${paint.dim(r.error.message.split('\n')[0])}`,
    );
  if (r.handshakeAnalysis) out.push(`${indent}${paint.dim(`(handshake analysis: ${r.handshakeAnalysis})`)}`);
  return out;
}

/** -v output for any command: each connection's story on stderr. */
export function printConnections(ui: Ui, records: ConnectionRecord[]): void {
  if (!ui.verbose) return;
  for (const r of records) for (const line of renderConnection(r, ui.e)) ui.err(line);
}
