// A check: one thing a command verified, its status and, unless it passed plainly, why. Every
// report (discovery, token response, binding, ID token, callback, TLS verdict, certificate
// inspection, smoke steps) lists its checks in this one shape, and the CLI prints them and puts
// them in the --json envelope's `checks`.

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail?: string;
}
