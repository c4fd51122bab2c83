// Headless Chromium (Debian's) drives test/browser/peers.html, which imports dist/rendezvous.js:
// two browser peers register, discover each other, exchange a message through the hub, and open a
// WebRTC data channel relay-only through the node's TURN (5 messages echoed one way, 5 sent the
// other, then bye). The page is served by a small proxy here that also forwards /v1/ (HTTP and the
// signalling WebSocket) to the real rendezvousd, so the page and the API share one origin; in the
// cross-origin cases the page calls the node's own port instead (another origin), which the node
// allows with --http-cors-origins (CORS preflights by a real browser), or does not (the page's
// requests must then fail); the tls case serves the API over https and the hub over wss
// (http-cert, a certificate made here whose key Chromium is told to trust).
// Skipped without chromium or the binaries (RDV_REQUIRE_BINARIES=1 makes missing binaries a failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { startServer } from '../scripts/serve.mjs';
import { binDir, haveBinaries, killGroup, launchChromium, startNode, waitFor, which } from '../scripts/test-harness.mjs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const haveNode = haveBinaries('rendezvousd');
const chromium = which('chromium');

/** The package's files, /v1/ forwarded to the node (scripts/serve.mjs), and POST /result collected. */
function startProxy(nodeUrl, onResult) {
  const result = (req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.end('ok');
      onResult(JSON.parse(body));
    });
  };
  return startServer({ root: here('..').replace(/\/$/, ''), node: new URL(nodeUrl), routes: { '/result': result } });
}

// The direct case lets Chromium gather host candidates, which it would do on every interface: it
// runs only where loopback is the sole interface (tests/web/run_npm_tests.sh runs npm test in a
// network namespace of its own), so no check ever leaves 127.0.0.1.
const onlyLoopback = Object.values(networkInterfaces()).flat().every((i) => i.internal);

const TITLES = {
  relay: 'data channel relay-only through our TURN',
  direct: 'data channel direct',
  'cross-origin': 'page on another origin than the API (CORS allowed), relay-only',
  'refused-origin': 'page on an origin the node does not allow: its API calls fail',
  tls: 'API on https and the hub on wss (http-cert), page on another origin, relay-only',
};

/** A self-signed certificate for 127.0.0.1 and the base64 SHA-256 of its public key (SPKI), which
 * Chromium is told to trust (--ignore-certificate-errors-spki-list: this key only). */
function makeCertificate(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const spki = execFileSync('sh', ['-c', 'openssl x509 -pubkey -noout -in "$1" | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64', 'sh', cert], { encoding: 'utf8' }).trim();
  return { cert, key, spki };
}

for (const mode of ['relay', 'direct', 'cross-origin', 'refused-origin', 'tls']) {
test(`Chromium: browser <-> browser through the hub, ${TITLES[mode]}`, {
  skip: (!chromium && 'chromium is not installed') || (!haveNode && `no rendezvousd in ${binDir}`) ||
    (mode === 'direct' && !onlyLoopback && 'interfaces besides loopback: direct checks would leave 127.0.0.1'),
  timeout: 180000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rdv-web-chromium-'));
  const crossOrigin = mode === 'cross-origin' || mode === 'refused-origin' || mode === 'tls';
  let result;
  let proxy;
  let pageOrigin = '';
  if (crossOrigin) {
    // The page's server first (its origin goes into the node's configuration); it forwards nothing
    // the page uses (the page calls the node's port).
    proxy = await startProxy('http://127.0.0.1:9', (r) => (result = r));
    pageOrigin = `http://127.0.0.1:${proxy.address().port}`;
  }
  const cors = mode === 'cross-origin' || mode === 'tls' ? ['--http-cors-origins', pageOrigin] : mode === 'refused-origin' ? ['--http-cors-origins', 'https://elsewhere.example'] : [];
  const certificate = mode === 'tls' ? makeCertificate(dir) : undefined;
  if (certificate) cors.push('--http-cert', certificate.cert, '--http-key', certificate.key);
  let node;
  let browser;
  t.after(async () => {
    killGroup(browser);
    proxy?.closeAllConnections?.();
    proxy?.close();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  node = await startNode(dir, ['--auth-secret', 'chromium-web-secret', ...cors]);
  const http = node.http;
  const [host, port] = [http.slice(0, http.lastIndexOf(':')), Number(http.slice(http.lastIndexOf(':') + 1))];
  const relayOnly = mode === 'direct' ? 0 : 1;
  let url;
  if (crossOrigin) {
    const api = `${mode === 'tls' ? 'https' : 'http'}://${http}`;
    url = `${pageOrigin}/test/browser/peers.html?relayOnly=1&namespace=chromium-web&node=${encodeURIComponent(api)}`;
  } else {
    proxy = await startProxy(`http://${host}:${port}`, (r) => (result = r));
    url = `http://127.0.0.1:${proxy.address().port}/test/browser/peers.html?relayOnly=${relayOnly}&namespace=chromium-web`;
  }
  browser = launchChromium(chromium, dir, url,
    certificate ? [`--ignore-certificate-errors-spki-list=${certificate.spki}`] : []);
  await waitFor('the page to report', () => result !== undefined || browser.exitCode !== null, 150000).catch(() => {});
  assert.ok(result, `no result from the page\nchromium:\n${browser.log()}\nnode:\n${node.log()}`);
  if (mode === 'refused-origin') {
    // The browser refuses the preflight's answer (403, no Access-Control-Allow-Origin): the first
    // API call, register(), fails as unreachable (fetch's TypeError), before anything is registered.
    assert.equal(result.status, 'fail', JSON.stringify(result));
    assert.match(result.error, /unreachable/);
    return;
  }
  assert.equal(result.status, 'pass', `${result.error}\n${(result.log ?? []).join('\n')}\nnode:\n${node.log()}`);
  assert.equal(result.hub.body, 'hello through the hub');
  assert.equal(result.hub.from, result.hub.alice);
  if (mode !== 'direct') {
    assert.equal(result.path, 'relayed');
    assert.equal(result.local, 'relay');
    assert.equal(result.remote, 'relay');
    assert.equal(result.bobPath, 'relayed');
  } else {
    assert.equal(result.path, 'direct');
    assert.equal(result.bobPath, 'direct');
    assert.ok(result.local !== 'relay' && result.remote !== 'relay', `${result.local}/${result.remote}`);
  }
  assert.equal(result.echoed, 5);
  assert.deepEqual(result.bobGot, ['msg 0', 'msg 1', 'msg 2', 'msg 3', 'msg 4']);
  assert.deepEqual(result.aliceGot, ['bob 0', 'bob 1', 'bob 2', 'bob 3', 'bob 4']);
});
}
