// The "doctor" summary printed at the end of a failed command run with -v: the likely causes of the
// failure, most likely first (core/diagnosis/causes.ts decides them), and one line per connection.
//
//   doctor: likely causes, most likely first
//     1. the server asked for a certificate from 'CN=Corp Issuing CA' but yours is from 'CN=mtls-oauth Test CA'
//        fix: use a client certificate issued by 'CN=Corp Issuing CA', or have the server trust ...
//
// Type-only imports but for the causes: this file is loaded with every command and must stay light.

import {
  connectionVerdicts,
  type FailureFacts,
  failureToDiagnose,
  likelyCauses,
} from '../core/diagnosis/causes.ts';
import type { ConnectionRecord } from '../core/transport/diagnostics.ts';
import type { Ui } from './ui.ts';

/** One line per connection: what it was and how far it got. */
export function connectionSummary(r: ConnectionRecord): string {
  const parts: string[] = [];
  if (r.proxy) parts.push(`via ${r.proxy}`);
  if (r.scheme === 'http:') parts.push('plain HTTP');
  else if (r.protocol) parts.push(r.protocol);
  else if (r.timings.tcpMs !== undefined) parts.push('TLS handshake not completed');
  else parts.push('not connected');
  if (r.serverChain.length || r.verifyError)
    parts.push(r.verified ? 'server verified' : `server NOT verified (${r.verifyError ?? '?'})`);
  if (r.clientCertRequested === true)
    parts.push(
      `client certificate requested${r.acceptableCAs?.length ? ` from ${r.acceptableCAs.join(' | ')}` : ''}`,
    );
  else if (r.clientCertRequested === false) parts.push('no client certificate requested');
  if (r.clientCertSent) parts.push(`sent ${r.clientCertSent.subject}`);
  if (r.alerts?.length) parts.push(`alert ${r.alerts.join(', ')}`);
  if (r.error) parts.push(`${r.error.code}`);
  return `${r.target}: ${parts.join('; ')}`;
}

/** Prints the summary on stderr (nothing when nothing can be said beyond the error's own hint). */
export function printDoctor(
  ui: Ui,
  error: FailureFacts,
  o: { records?: ConnectionRecord[]; result?: unknown } = {},
): void {
  const err = failureToDiagnose(error, o.result);
  const records = o.records ?? [];
  const causes = likelyCauses(err, records);
  if (causes.length === 0 && records.length === 0) return;
  const paint = ui.e;
  ui.err('');
  ui.err(paint.bold('doctor: likely causes, most likely first'));
  if (causes.length === 0) ui.err(`  ${paint.dim('(nothing beyond the error and its hint above)')}`);
  causes.forEach((c, i) => {
    ui.err(`  ${i + 1}. ${c.text}`);
    if (c.fix) ui.err(`     ${paint.dim('fix:')} ${c.fix}`);
  });
  if (records.length) {
    ui.err(`  ${paint.dim('connections:')}`);
    for (const { record, verdict } of connectionVerdicts(err, records.slice(-5))) {
      ui.err(`    ${connectionSummary(record)}`);
      ui.err(`      ${paint.dim('verdict:')} ${verdict.status}${verdict.code ? ` ${verdict.code}` : ''}`);
    }
  }
}
