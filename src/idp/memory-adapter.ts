// oidc-provider's storage: one in-memory store per IdP instance. (oidc-provider's own dev adapter
// is shared by the whole process and warns on every start.) Nothing is written to disk: an
// embedded IdP leaves nothing behind when it stops.

interface Stored {
  payload: Record<string, unknown>;
  expiresAt?: number;
}

/** A fresh adapter class (oidc-provider's `adapter` setting) over a store of its own. */
export function memoryAdapterFactory() {
  const store = new Map<string, Stored>();
  const get = (key: string) => {
    const s = store.get(key);
    if (s?.expiresAt !== undefined && s.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return s;
  };
  return class MemoryAdapter {
    constructor(readonly model: string) {}
    key(id: string) {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
      store.set(this.key(id), { payload, expiresAt });
      if (this.model === 'Session' && typeof payload.uid === 'string') {
        store.set(`sessionUid:${payload.uid}`, { payload: { id }, expiresAt });
      }
      if (typeof payload.userCode === 'string') {
        store.set(`userCode:${payload.userCode}`, { payload: { id }, expiresAt });
      }
      if (typeof payload.grantId === 'string') {
        const gk = `grant:${payload.grantId}`;
        const g = get(gk);
        if (g) (g.payload.keys as string[]).push(this.key(id));
        else store.set(gk, { payload: { keys: [this.key(id)] } });
      }
    }
    async find(id: string) {
      return get(this.key(id))?.payload;
    }
    async findByUid(uid: string) {
      const ref = get(`sessionUid:${uid}`)?.payload.id as string | undefined;
      return ref === undefined ? undefined : this.find(ref);
    }
    async findByUserCode(userCode: string) {
      const ref = get(`userCode:${userCode}`)?.payload.id as string | undefined;
      return ref === undefined ? undefined : this.find(ref);
    }
    async consume(id: string) {
      const s = get(this.key(id));
      if (s) s.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      const g = get(`grant:${grantId}`);
      for (const k of (g?.payload.keys as string[] | undefined) ?? []) store.delete(k);
      store.delete(`grant:${grantId}`);
    }
  };
}
