// Discovery's public surface: import discovery from here.

export * from './discover.ts';
export * from './jwks.ts';
export * from './metadata.ts';
export * from './mtls.ts';
export * from './well-known.ts';
