// The page the browser lands on after the IdP redirects to the loopback callback. Plain HTML that
// loads nothing from elsewhere; every piece of text is escaped (what the IdP or an attacker sent
// is shown as text, never markup); it never shows the code or any token.

import { printable } from '../safe-text.ts';

export interface CallbackPage {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers on every callback response (docs/standards.md "The authorization-code flow"). */
export const CALLBACK_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
});

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** What we echo from a request: shortened, its unsafe characters shown escaped (safe-text.ts), before HTML escaping. */
export function echo(value: string, max = 300): string {
  const clean = printable(value.length > max ? value.slice(0, max) : value, { oneLine: true });
  return value.length > max ? `${clean}…` : clean;
}

type Tone = 'ok' | 'fail' | 'wait';

const MARK: Record<Tone, string> = { ok: '✓', fail: '✗', wait: '…' };

interface PageContent {
  status: number;
  /** The heading's colour and mark: ✓ done, ✗ failed, … still going. */
  tone: Tone;
  title: string;
  /** Plain-text paragraphs (escaped when rendered). */
  paragraphs: string[];
  /** Plain-text label/value pairs (escaped when rendered). */
  facts?: Array<[string, string]>;
  extraHeaders?: Record<string, string>;
}

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:3rem 1rem;background:#f6f7f9;color:#1f2328}' +
  'main{max-width:36rem;margin:auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;box-shadow:0 1px 3px #0002}' +
  'h1{font-size:1.4rem;margin:0 0 1rem}.ok h1{color:#1a7f37}.fail h1{color:#cf222e}.wait h1{color:#9a6700}' +
  'dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}' +
  'dd{margin:0;font-family:ui-monospace,monospace;overflow-wrap:anywhere;white-space:pre-wrap}' +
  'footer{margin-top:1.5rem;color:#656d76;font-size:.875rem}';

function render(p: PageContent): CallbackPage {
  const paragraphs = p.paragraphs.map((t) => `<p>${escapeHtml(t)}</p>`).join('\n');
  const facts = p.facts?.length
    ? `<dl>\n${p.facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n')}\n</dl>`
    : '';
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>mtls-oauth: ${escapeHtml(p.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main class="${p.tone}">
<h1>${MARK[p.tone]} ${escapeHtml(p.title)}</h1>
${paragraphs}
${facts}
<footer>mtls-oauth loopback callback</footer>
</main>
</body>
</html>
`;
  return { status: p.status, headers: { ...CALLBACK_PAGE_HEADERS, ...p.extraHeaders }, body };
}

const CLOSE_TAB = 'You can close this tab and return to the terminal.';

/** The login finished: the code was exchanged and every check passed (the terminal has the details). */
export function successPage(): CallbackPage {
  return render({
    status: 200,
    tone: 'ok',
    title: 'Login succeeded',
    paragraphs: [
      'The code was exchanged and the tokens passed their checks. The details are in the terminal.',
      CLOSE_TAB,
    ],
  });
}

/**
 * The login failed after the authorization response was accepted: the code exchange was refused,
 * or a check of the tokens failed. `step` and `code` are ours; `error` (the IdP's OAuth error
 * code, when it sent one) is network text and echoed.
 */
export function loginFailedPage(step: string, code: string, error?: string): CallbackPage {
  const facts: Array<[string, string]> = [
    ['step', step],
    ['code', code],
  ];
  if (error) facts.push(['error', echo(error, 100)]);
  return render({
    status: 200,
    tone: 'fail',
    title: 'Login failed',
    paragraphs: [
      `The authorization response arrived, but the ${step} failed.`,
      'See the terminal for the message and a hint.',
    ],
    facts,
  });
}

/** The browser waited a few seconds and the login is still going (a slow IdP): the terminal will tell. */
export function stillWorkingPage(): CallbackPage {
  return render({
    status: 200,
    tone: 'wait',
    title: 'Still working: see the terminal',
    paragraphs: [
      'mtls-oauth received the authorization response and is still exchanging the code and checking the tokens.',
      'The outcome will be in the terminal; reloading this page shows it here too while mtls-oauth runs.',
    ],
  });
}

/** The IdP answered the authorization request with an error (e.g. access_denied). */
export function idpErrorPage(error: string, description?: string): CallbackPage {
  const facts: Array<[string, string]> = [['error', echo(error)]];
  if (description) facts.push(['description', echo(description)]);
  return render({
    status: 400,
    tone: 'fail',
    title: 'Login failed',
    paragraphs: ['The identity provider answered with an error.', CLOSE_TAB],
    facts,
  });
}

export type StateProblem = 'missing' | 'mismatch' | 'repeated';

/** Wrong or missing state: the listener keeps waiting, so the page says so. */
export function badStatePage(problem: StateProblem): CallbackPage {
  const what = {
    missing: 'It carries no state parameter.',
    mismatch: 'Its state parameter does not match the login in progress.',
    repeated: 'It carries more than one state parameter.',
  }[problem];
  return render({
    status: 400,
    tone: 'fail',
    title: 'Not the response mtls-oauth is waiting for',
    paragraphs: [
      what,
      'It was ignored and nothing was exchanged. mtls-oauth is still waiting for the right response; if you started a new login, use the tab that login opened.',
    ],
  });
}

/** The right state but the wrong (or no) issuer: the flow is over (RFC 9207 mix-up defence). */
export function issuerProblemPage(expected: string, received: string | undefined): CallbackPage {
  return render({
    status: 400,
    tone: 'fail',
    title: 'Login stopped: unexpected issuer',
    paragraphs: [
      received === undefined
        ? 'The response does not say which issuer sent it, and this identity provider promises to (RFC 9207).'
        : 'The response says it comes from a different issuer than the one this login started with. This can be a mix-up attack (RFC 9207).',
      'Nothing was exchanged.',
      CLOSE_TAB,
    ],
    facts: [
      ['expected', echo(expected)],
      ['received', received === undefined ? '(none)' : echo(received)],
    ],
  });
}

/** The right state but neither a code nor an error, or a parameter given twice. */
export function invalidResponsePage(reason: string): CallbackPage {
  return render({
    status: 400,
    tone: 'fail',
    title: 'Login failed: malformed response',
    paragraphs: [reason, 'Nothing was exchanged.', CLOSE_TAB],
  });
}

export function notFoundPage(): CallbackPage {
  return render({ status: 404, tone: 'fail', title: 'Not found', paragraphs: ['There is nothing here.'] });
}

export function forbiddenHostPage(): CallbackPage {
  return render({
    status: 403,
    tone: 'fail',
    title: 'Forbidden',
    paragraphs: ['This callback only answers requests addressed to the loopback address it listens on.'],
  });
}

export function methodNotAllowedPage(): CallbackPage {
  return render({
    status: 405,
    tone: 'fail',
    title: 'Method not allowed',
    paragraphs: ['The callback accepts GET only.'],
    extraHeaders: { Allow: 'GET' },
  });
}

/** A request after the flow ended without an outcome to show (timeout, Ctrl-C, closed). */
export function finishedPage(): CallbackPage {
  return render({
    status: 410,
    tone: 'fail',
    title: 'This login has already finished',
    paragraphs: ['See the terminal for its outcome.', CLOSE_TAB],
  });
}
