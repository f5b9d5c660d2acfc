// oidc-provider 8 ships no type declarations; the test IdP (idp.ts) needs only this much.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type Configuration = Record<string, any>;
  /** The OAuth error classes (InvalidGrant, InvalidRequest, ...), thrown from grant handlers. */
  export const errors: Record<string, new (description?: string) => Error>;

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
    [key: string]: any;
  }
}
