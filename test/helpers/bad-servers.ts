// Servers that misbehave, for the fault tests: on 127.0.0.1, ephemeral ports, every socket tracked
// and destroyed by close(). All but `silent` speak TLS with the certificate given, and write their
// HTTP answers by hand (a real HTTP server would not misbehave on purpose):
//
//   silent           accepts TCP, reads, never answers (not even the ClientHello): the TLS handshake
//                    never completes
//   no-response      completes TLS, reads the request, never answers
//   stall-body       sends the headers (content-length 1000) and 10 bytes of body, then nothing
//   drip-headers     sends the status line and headers one byte every `dripMs`, forever
//   drip-body        sends complete headers (chunked), then one body byte every `dripMs`, forever
//   close-mid-body   sends headers (content-length 10000) and 100 bytes, then closes the socket
//   huge-body        a 100 MB JSON-looking body (chunked, or with content-length if `declareLength`)
//   huge-header      a 1 MB header
//   endless-chunked  chunks of 64 KiB, forever (honouring back-pressure)
//   json             any `body` given, as application/json with `status` (hostile documents)
//
// Also startConnectProxy(): an HTTP CONNECT proxy that records each CONNECT and relays bytes.

import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';

export type BadKind =
  | 'silent'
  | 'no-response'
  | 'stall-body'
  | 'drip-headers'
  | 'drip-body'
  | 'close-mid-body'
  | 'huge-body'
  | 'huge-header'
  | 'endless-chunked'
  | 'json';

export interface BadServerOptions {
  /** the server's certificate and key (every kind but `silent`) */
  cert?: string;
  key?: string;
  /** interval of the drip kinds (default 100 ms) */
  dripMs?: number;
  /** huge-body: announce the size in content-length (default: chunked, no length) */
  declareLength?: boolean;
  /** huge-body: size in bytes (default 100 MB) */
  size?: number;
  /** json: the body (a string is sent as is) and the status (default 200) */
  body?: unknown;
  status?: number;
  contentType?: string;
  /** json: the answer per request line ("GET /path HTTP/1.1"), instead of body/status/contentType */
  route?: (requestLine: string) => { status?: number; body: unknown; contentType?: string };
}

export interface BadServer {
  port: number;
  /** https://127.0.0.1:PORT */
  url: string;
  /** TCP connections accepted */
  connections: number;
  /** request lines received ("POST /token HTTP/1.1") */
  requests: string[];
  /** bytes of the answer written so far (all connections) */
  bytesSent(): number;
  close(): Promise<void>;
}

const MB = 1024 * 1024;

function track(server: Server, sockets: Set<Socket>) {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
}

function closeAll(server: Server, sockets: Set<Socket>, timers: Set<NodeJS.Timeout>): Promise<void> {
  for (const t of timers) clearInterval(t);
  timers.clear();
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Writes `produce()` chunks while the socket takes them, until it returns undefined or the socket ends. */
function pump(socket: Socket, produce: () => Buffer | undefined, count: (n: number) => void): void {
  const go = () => {
    while (!socket.destroyed) {
      const chunk = produce();
      if (!chunk) {
        socket.end();
        return;
      }
      count(chunk.length);
      if (!socket.write(chunk)) {
        socket.once('drain', go);
        return;
      }
    }
  };
  go();
}

export async function startBadServer(kind: BadKind, o: BadServerOptions = {}): Promise<BadServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const requests: string[] = [];
  let sent = 0;
  let connections = 0;
  const count = (n: number) => {
    sent += n;
  };
  const dripMs = o.dripMs ?? 100;

  const drip = (socket: Socket, text: Buffer | (() => Buffer)) => {
    let i = 0;
    const t = setInterval(() => {
      if (socket.destroyed) {
        clearInterval(t);
        timers.delete(t);
        return;
      }
      const byte = typeof text === 'function' ? text() : text.subarray(i, i + 1);
      i++;
      if (byte.length === 0) return;
      count(byte.length);
      socket.write(byte);
    }, dripMs);
    timers.add(t);
    socket.on('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
  };

  const answer = (socket: Socket, requestLine: string) => {
    switch (kind) {
      case 'no-response':
        return;
      case 'stall-body': {
        const head =
          'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"issuer":';
        count(head.length);
        socket.write(head);
        return;
      }
      case 'drip-headers':
        drip(
          socket,
          Buffer.from(
            `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-drip: ${'a'.repeat(10_000)}\r\n\r\n{}`,
          ),
        );
        return;
      case 'drip-body': {
        const head =
          'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n';
        count(head.length);
        socket.write(head);
        drip(socket, () => Buffer.from('1\r\n \r\n'));
        return;
      }
      case 'close-mid-body': {
        const head = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10000\r\n\r\n';
        const part = `{"access_token":"${'x'.repeat(80)}`;
        count(head.length + part.length);
        socket.write(head + part, () => setTimeout(() => socket.destroy(), 20));
        return;
      }
      case 'huge-body': {
        const size = o.size ?? 100 * MB;
        const chunk = Buffer.alloc(64 * 1024, 'a');
        let left = size;
        const head = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${o.declareLength ? `content-length: ${size}` : 'transfer-encoding: chunked'}\r\n\r\n`;
        count(head.length);
        socket.write(head);
        let first = true;
        pump(
          socket,
          () => {
            if (left <= 0) {
              if (o.declareLength || left < 0) return undefined;
              left = -1;
              return Buffer.from('0\r\n\r\n');
            }
            let data = left < chunk.length ? chunk.subarray(0, left) : chunk;
            if (first) {
              data = Buffer.concat([Buffer.from('{"x":"'), data.subarray(6)]);
              first = false;
            }
            left -= data.length;
            return o.declareLength
              ? data
              : Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
          },
          count,
        );
        return;
      }
      case 'huge-header': {
        const text = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-big: ${'b'.repeat(MB)}\r\ncontent-length: 2\r\n\r\n{}`;
        pump(
          socket,
          (() => {
            let done = false;
            return () => {
              if (done) return undefined;
              done = true;
              return Buffer.from(text);
            };
          })(),
          count,
        );
        return;
      }
      case 'endless-chunked': {
        const head =
          'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n';
        count(head.length);
        socket.write(head);
        const data = Buffer.alloc(64 * 1024, ' ');
        const chunk = Buffer.concat([
          Buffer.from(`${data.length.toString(16)}\r\n`),
          data,
          Buffer.from('\r\n'),
        ]);
        pump(socket, () => chunk, count);
        return;
      }
      case 'json': {
        const a = o.route?.(requestLine) ?? { body: o.body, status: o.status, contentType: o.contentType };
        const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
        const payload = Buffer.from(text ?? 'null');
        const head = `HTTP/1.1 ${a.status ?? 200} X\r\ncontent-type: ${a.contentType ?? 'application/json'}\r\ncontent-length: ${payload.length}\r\nconnection: close\r\n\r\n`;
        count(head.length + payload.length);
        socket.end(Buffer.concat([Buffer.from(head), payload]));
        return;
      }
    }
  };

  const onSocket = (socket: Socket) => {
    connections++;
    let buf = '';
    let answered = false;
    socket.on('data', (d: Buffer) => {
      if (answered) return;
      buf += d.toString('latin1');
      if (buf.length > 1 * MB) return void socket.destroy();
      if (!buf.includes('\r\n\r\n')) return;
      answered = true;
      const line = buf.split('\r\n')[0];
      requests.push(line);
      answer(socket, line);
    });
  };

  let server: Server;
  if (kind === 'silent') {
    server = createNetServer((s) => {
      connections++;
      s.on('data', () => {}); // reads the ClientHello, and never says a word
    });
  } else {
    if (!o.cert || !o.key) throw new Error(`${kind} needs cert and key`);
    server = createTlsServer({ cert: o.cert, key: o.key }, (s: TLSSocket) => {
      s.on('error', () => {});
      onSocket(s);
    });
    server.on('tlsClientError', () => {});
  }
  track(server, sockets);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    requests,
    bytesSent: () => sent,
    close: () => closeAll(server, sockets, timers),
  };
}

export interface ConnectProxy {
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** every CONNECT target ("127.0.0.1:443") */
  connects: string[];
  /** Proxy-Authorization headers received, in order ('' when absent) */
  authorizations: string[];
  /** plain (non-CONNECT) request lines received */
  otherRequests: string[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy that understands only CONNECT: it records the target and relays bytes both ways,
 * blind to what they carry (the TLS inside stays end to end). `deny` answers 403 to every CONNECT;
 * `requireAuth` answers 407 unless that Proxy-Authorization value is sent.
 */
export async function startConnectProxy(
  o: { deny?: boolean; requireAuth?: string } = {},
): Promise<ConnectProxy> {
  const sockets = new Set<Socket>();
  const connects: string[] = [];
  const authorizations: string[] = [];
  const otherRequests: string[] = [];
  const server = createNetServer((client) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const head = buf.subarray(0, end).toString('latin1').split('\r\n');
      const rest = buf.subarray(end + 4);
      const m = head[0].match(/^CONNECT (\S+) HTTP\/1\.[01]$/);
      if (!m) {
        otherRequests.push(head[0]);
        client.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      connects.push(m[1]);
      const auth = head.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]+:\s*/, '') ?? '';
      authorizations.push(auth);
      if (o.deny) {
        client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      if (o.requireAuth !== undefined && auth !== o.requireAuth) {
        client.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="test"\r\ncontent-length: 0\r\n\r\n',
        );
        return;
      }
      const i = m[1].lastIndexOf(':');
      const host = m[1].slice(0, i).replace(/^\[|\]$/g, '');
      const port = Number(m[1].slice(i + 1));
      const upstream = netConnect({ host, port });
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
      upstream.once('connect', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (rest.length) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
      });
    };
    client.on('data', onData);
  });
  track(server, sockets);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connects,
    authorizations,
    otherRequests,
    close: () => closeAll(server, sockets, new Set()),
  };
}
