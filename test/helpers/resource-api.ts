// The protected API of the tests: src/idp/resource-server.ts (the one `mtls-oauth idp --api` runs)
// in front of the test IdP, introspecting as `kong` over the IdP's mTLS listener, with the IdP's
// server certificate (localhost, 127.0.0.1: trusted with the fixture's --ca).
//
//   const api = await startTestApi(fx.idp);               // binding enforced, as Kong's strict mode
//   const lax = await startTestApi(fx.idp, { enforceBinding: false });   // tests only
//   await api.close();

import { type ResourceServer, startResourceServer } from '../../src/idp/resource-server.ts';
import type { TestIdp } from './idp.ts';

export function startTestApi(
  idp: TestIdp,
  o: { enforceBinding?: boolean; dpopNonce?: boolean } = {},
): Promise<ResourceServer> {
  return startResourceServer({
    server: { cert: idp.pki.server.cert, key: idp.pki.server.key },
    introspection: {
      url: idp.aliases?.introspection_endpoint ?? idp.endpoints.introspection,
      clientId: idp.clients.kong.client_id,
      cert: idp.pki.client.cert,
      key: idp.pki.client.key,
      ca: idp.pki.ca.cert,
    },
    enforceBinding: o.enforceBinding,
    dpopNonce: o.dpopNonce,
  });
}
