// A small development server for the examples: serves this package's files (examples/, dist/) and
// forwards /v1/ (HTTP and the signalling WebSocket) to a rendezvous node, so that pages and the API
// share one origin (without the node having to allow the page's origin in http-cors-origins; docs/web.md).
//   node scripts/serve.mjs --node http://127.0.0.1:8080 [--port 8000] [--host 127.0.0.1]
//   then open http://127.0.0.1:8000/examples/chat.html and give it the page's own origin as node.
// The chromium test uses startServer() the same way.
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.json': 'application/json', '.css': 'text/css' };

/**
 * @param {{root: string, node: URL, host?: string, port?: number, routes?: Record<string, (req, res) => void>}} o
 * @returns {Promise<import('node:http').Server>}
 */
export function startServer({ root, node, host = '127.0.0.1', port = 0, routes = {} }) {
  const nodeHost = node.hostname.replace(/^\[|\]$/g, '');
  const nodePort = Number(node.port || 80);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(req.url.split('?')[0]);
    if (routes[path]) return routes[path](req, res);
    if (path.startsWith('/v1/')) {
      const up = request({ host: nodeHost, port: nodePort, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
      return;
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root + sep) || req.method !== 'GET') return res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  // The signalling WebSocket: the upgrade request is replayed to the node, then bytes flow both ways.
  server.on('upgrade', (req, socket, head) => {
    if (!req.url.startsWith('/v1/')) return socket.destroy();
    const up = connect(nodePort, nodeHost, () => {
      const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
      up.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n\r\n`);
      up.write(head);
      socket.pipe(up).pipe(socket);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
  };
  if (args.includes('--help') || !opt('node')) {
    console.log('usage: node scripts/serve.mjs --node http://HOST:PORT [--port 8000] [--host 127.0.0.1]');
    process.exit(args.includes('--help') ? 0 : 2);
  }
  let node;
  try {
    node = new URL(opt('node'));
    if (node.protocol !== 'http:') throw new Error('only http:// nodes');
  } catch (e) {
    console.error(`serve: --node: ${e.message}`);
    process.exit(2);
  }
  const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
  const server = await startServer({ root, node, host: opt('host', '127.0.0.1'), port: Number(opt('port', 8000)) });
  const a = server.address();
  console.log(`serving ${root} on http://${a.address}:${a.port}/ (open /examples/chat.html), /v1/ -> ${node.origin}`);
}
