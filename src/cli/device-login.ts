// `mtls-oauth login --device`: the device authorization grant (RFC 8628) for a terminal without a
// browser (SSH, a container, a gateway host). The user code and the verification URI go to
// stderr; the token endpoint is polled over mTLS until the user approves elsewhere. The flow is
// src/core/device.ts; this file holds the progress, Ctrl-C and the rendering, as `token` renders.

import type { Check } from '../core/check.ts';
import type { ResolvedSettings } from '../core/config.ts';
import { usageError } from '../core/errors.ts';
import { abortOnSigint } from './interrupt.ts';
import { formatDuration, parsePrint, tokenOutcome } from './render-token.ts';
import type { Outcome } from './run.ts';
import type { Ui } from './ui.ts';

export interface DeviceLoginOptions {
  param: string[];
  print?: string;
  cache: boolean;
  introspect: boolean;
  /** Flags of the browser flow that mean nothing here, by name (usage error when given). */
  browserFlags: string[];
}

export async function deviceLogin(
  o: DeviceLoginOptions,
  resolved: Pick<ResolvedSettings, 'settings' | 'sources'>,
  ui: Ui,
): Promise<Outcome> {
  if (o.browserFlags.length) {
    throw usageError(
      'BAD_ARGUMENTS',
      `${o.browserFlags.join(', ')} belong to the browser login, not --device`,
      {
        hint: 'the device flow has no callback: leave them out',
      },
    );
  }
  const print = parsePrint(ui, o.print);
  const { parseExtraParams, assertExtraParamsAllowed } = await import('../core/authorization-request.ts');
  const extra = parseExtraParams(o.param);
  assertExtraParamsAllowed(extra);
  const { settings, sources } = resolved;
  const scope = settings.scope ?? 'openid';

  // Ctrl-C closes the listener or stops the polling (exit 130); a second one leaves at once.
  const interrupt = abortOnSigint();

  const [{ openSession }, { requestDeviceAuthorization, pollForToken }] = await Promise.all([
    import('../core/session.ts'),
    import('../core/device.ts'),
  ]);
  const session = await openSession({
    settings,
    sources,
    operations: ['token', 'device_authorization'],
    log: ui.verbose ? (line) => ui.debug(line) : undefined,
    showSecrets: ui.showSecrets,
    warn: (m) => ui.warn(m),
  });
  let spinner: Awaited<ReturnType<Ui['spinner']>> | undefined;
  try {
    const deviceEndpoint = session.endpoint('device_authorization');
    const auth = await requestDeviceAuthorization(session.client, deviceEndpoint.url, {
      scope,
      extra: Object.fromEntries(extra),
    });
    const deadline = Date.now() + auth.expiresIn * 1000;
    ui.err(`To log in, open ${auth.verificationUri} on any device and enter the code:`);
    ui.err('');
    ui.err(`    ${ui.e.bold(auth.userCode)}`);
    ui.err('');
    if (auth.verificationUriComplete) {
      ui.err('Or open this URL, which carries the code:');
      ui.err(auth.verificationUriComplete);
      // On a terminal wide enough, also as a QR code for a phone.
      if (process.stderr.isTTY) {
        const { qrLines } = await import('./qr.ts');
        const qr = await qrLines(auth.verificationUriComplete, process.stderr.columns ?? 80);
        if (qr) for (const line of qr) ui.err(line);
      }
    }
    ui.err(
      `Waiting up to ${formatDuration(auth.expiresIn)} for the approval, polling every ${auth.interval} s (Ctrl-C cancels).`,
    );
    const waiting = () =>
      `waiting for the approval of ${auth.userCode} (${formatDuration(Math.max(0, (deadline - Date.now()) / 1000))} left)`;
    spinner = await ui.spinner(waiting());
    const tick = setInterval(() => spinner?.text(waiting()), 1000);
    tick.unref();
    const tokenEndpoint = session.endpoint('token');
    let result: Awaited<ReturnType<typeof pollForToken>>;
    try {
      result = await pollForToken(session.client, tokenEndpoint.url, auth, {
        signal: interrupt.signal,
        onPoll: (event) => {
          if (event.type === 'slow_down') {
            spinner?.stop();
            ui.warn(`the IdP asked to slow down (slow_down): polling every ${event.intervalS} s from now on`);
            void ui.spinner(waiting()).then((s) => {
              spinner = s;
            });
          }
        },
      });
    } finally {
      clearInterval(tick);
      spinner?.stop();
    }
    ui.err(`Approved after ${result.polls} poll${result.polls === 1 ? '' : 's'}.`);

    const obtainedAt = Math.floor(Date.now() / 1000);
    const { checkIssuedToken, cacheIssuedToken } = await import('../core/issued-token.ts');
    const issued = await checkIssuedToken(session, result.token, {
      introspect: o.introspect,
      onNotSent: (m) => ui.warn(m),
    });
    const checks: Check[] = [...issued.checks, ...result.checks];
    let cachedIn: string | undefined;
    if (o.cache) {
      const { TokenCache } = await import('../core/token-cache.ts');
      const cache = new TokenCache({ warn: (m) => ui.warn(m) });
      cachedIn = await cacheIssuedToken(cache, session, result.token, {
        grantType: 'device_code',
        now: obtainedAt,
      });
    }
    return tokenOutcome(ui, session, {
      token: result.token,
      obtainedAt,
      requestedScope: scope,
      checks,
      cachedIn,
      print,
    });
  } finally {
    spinner?.stop();
    interrupt.dispose();
    await session.close();
  }
}
