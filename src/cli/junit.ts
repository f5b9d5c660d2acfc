// JUnit XML for CI systems (Jenkins, GitLab, GitHub Actions reporters): one testsuite, one
// testcase per step; a failed step carries a <failure>, a skipped one <skipped/>. CI systems keep
// and publish the file, so every text in it goes through redaction, --show-secrets or not.

import type { CheckStatus } from '../core/check.ts';
import { redactText } from '../core/redact.ts';
import { xmlSafe } from '../core/safe-text.ts';

export interface JunitCase {
  name: string;
  status: CheckStatus;
  timeMs?: number;
  detail?: string;
  hint?: string;
}

// Step details carry text from the IdP: xmlSafe() shows its control characters escaped (XML 1.0
// forbids most of them even as character references) before the markup is escaped.
const escapeXml = (s: string) =>
  xmlSafe(redactText(s))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

const seconds = (ms = 0) => (ms / 1000).toFixed(3);

export function junitXml(suite: string, cases: JunitCase[], timestamp = new Date()): string {
  const failures = cases.filter((c) => c.status === 'fail').length;
  const skipped = cases.filter((c) => c.status === 'skip').length;
  const total = cases.reduce((t, c) => t + (c.timeMs ?? 0), 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="mtls-oauth" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${seconds(total)}">`,
    `  <testsuite name="${escapeXml(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(total)}" timestamp="${timestamp.toISOString().replace(/\.\d+Z$/, '')}">`,
  ];
  for (const c of cases) {
    const open = `    <testcase classname="${escapeXml(suite)}" name="${escapeXml(c.name)}" time="${seconds(c.timeMs)}"`;
    const text = [c.detail, c.hint ? `hint: ${c.hint}` : undefined].filter(Boolean).join('\n');
    if (c.status === 'fail') {
      lines.push(
        `${open}>`,
        `      <failure message="${escapeXml(c.detail ?? 'failed')}">${escapeXml(text)}</failure>`,
        '    </testcase>',
      );
    } else if (c.status === 'skip') {
      lines.push(`${open}>`, `      <skipped message="${escapeXml(c.detail ?? '')}"/>`, '    </testcase>');
    } else if (c.status === 'warn') {
      lines.push(
        `${open}>`,
        `      <system-out>${escapeXml(`warning: ${text}`)}</system-out>`,
        '    </testcase>',
      );
    } else {
      lines.push(`${open}/>`);
    }
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
