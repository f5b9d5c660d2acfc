// Passwords and passphrases for `certs`: from an environment variable the user names (never from
// argv, where every user of the machine can read them), or typed at a prompt without echo.

import { usageError } from '../../../core/errors.ts';
import { canPrompt, promptHidden } from '../../prompt.ts';

export interface SecretSource {
  /** The value of e.g. --p12-password-env: the name of an environment variable. */
  envVar?: string;
  /** The option that names the variable, for messages: "--p12-password-env". */
  envOption: string;
  /** A well-known variable to fall back on (MTLS_OAUTH_P12_PASSWORD). */
  fallbackEnv?: string;
  /** "password for certs/client.p12". */
  what: string;
  /** Ask twice when creating something protected by it. */
  confirm?: boolean;
  /** Refuse an empty value (creating a file: an empty password protects nothing). */
  nonEmpty?: boolean;
}

/** The secret from the named variable, the fallback variable, or a prompt; usage errors otherwise. */
export async function readSecret(src: SecretSource): Promise<string> {
  let value: string | undefined;
  if (src.envVar !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(src.envVar)) {
      throw usageError(
        'BAD_ENV_NAME',
        `${src.envOption} takes the name of an environment variable, not "${src.envVar}"`,
        {
          hint: `for example: export MY_SECRET=...; ${src.envOption} MY_SECRET`,
        },
      );
    }
    value = process.env[src.envVar];
    if (value === undefined) {
      throw usageError(
        'ENV_NOT_SET',
        `the environment variable ${src.envVar} (${src.envOption}) is not set`,
        {
          hint: `export ${src.envVar}=... first, or leave out ${src.envOption} to be asked`,
        },
      );
    }
  } else if (src.fallbackEnv && process.env[src.fallbackEnv] !== undefined) {
    value = process.env[src.fallbackEnv];
  } else if (canPrompt()) {
    value = await promptHidden(`${capitalize(src.what)}: `);
    if (src.confirm) {
      const again = await promptHidden(`${capitalize(src.what)} (again): `);
      if (again !== value) {
        throw usageError('SECRET_MISMATCH', 'the two entries differ; nothing was written', {
          hint: 'run the command again',
        });
      }
    }
  } else {
    throw usageError('SECRET_REQUIRED', `the ${src.what} is needed, and there is no terminal to ask it on`, {
      hint: `name an environment variable that holds it: ${src.envOption} VAR${src.fallbackEnv ? ` (or set ${src.fallbackEnv})` : ''}`,
    });
  }
  if (src.nonEmpty && (value ?? '') === '') {
    throw usageError('SECRET_EMPTY', `the ${src.what} is empty`, { hint: 'choose a password' });
  }
  return value ?? '';
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
