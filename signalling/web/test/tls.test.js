// TLS on the node's HTTP listener (http-cert, http-key): the JS client on https:// and the hub on
// wss:// against the real rendezvousd with a self-signed certificate made here by openssl, trusted
// through NODE_EXTRA_CA_CERTS by a child node process (PEER below): register, discover, a signed
// ice-servers request and a message through the hub. Skipped without the binaries or openssl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binDir, haveBinaries, startNode, which } from '../scripts/test-harness.mjs';

const haveNode = haveBinaries('rendezvousd');
const haveOpenssl = which('openssl') !== '';

// The child: two JS clients on https:// and wss:// only; prints one JSON line with what happened.
const dist = new URL('../dist/rendezvous.js', import.meta.url).href;
const PEER = `import WebSocket from 'ws';
import { Identity, RendezvousClient } from '${dist}';

const node = process.argv[1];
const namespace = 'tls-web';
const alice = new RendezvousClient({ node, identity: Identity.generate(), WebSocket });
const bob = new RendezvousClient({ node, identity: Identity.generate(), WebSocket });
const out = {};
try {
  out.nodeApi = (await alice.nodeInfo()).record.textValue('api') ?? null;
  await alice.register(namespace, { ttl: 120 });
  await bob.register(namespace, { ttl: 120 });
  out.found = (await alice.discover(namespace)).map((r) => r.nodeId).sort();
  out.expected = [alice.identity.nodeId, bob.identity.nodeId].sort();
  out.turn = (await alice.iceServers()).some((s) => s.username);
  const got = new Promise((resolve) => bob.inbox((m) => resolve(m.body)));
  const bobEnr = (await alice.discover(namespace)).find((r) => r.nodeId === bob.identity.nodeId).enr;
  out.ack = (await alice.send(bobEnr, 'over wss')).status;
  out.body = await Promise.race([got, new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
  out.status = 'pass';
} catch (e) {
  out.status = 'fail';
  out.error = String(e.message ?? e);
}
alice.close();
bob.close();
console.log(JSON.stringify(out));
`;

test('JS client over https and wss (http-cert, http-key)', {
  skip: (!haveNode && `no rendezvousd in ${binDir}`) || (!haveOpenssl && 'openssl is not installed'),
  timeout: 90000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rdv-web-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  let node;
  let peer;
  t.after(async () => {
    peer?.kill('SIGKILL');
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  node = await startNode(dir, ['--auth-secret', 'tls-test-rest-secret', '--http-cert', cert, '--http-key', key]);
  const url = `https://${node.http}`;

  peer = spawn(process.execPath, ['--input-type=module', '-e', PEER, url], {
    cwd: fileURLToPath(new URL('..', import.meta.url)), // resolves 'ws' from the package's node_modules
    env: { ...process.env, NODE_EXTRA_CA_CERTS: cert },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  peer.stdout.on('data', (d) => (out += d));
  peer.stderr.on('data', (d) => (err += d));
  const code = await new Promise((resolve) => peer.on('close', resolve));
  assert.equal(code, 0, err);
  const r = JSON.parse(out.trim().split('\n').pop());
  assert.equal(r.status, 'pass', `${r.error}\n${err}\nnode:\n${node.log()}`);
  assert.equal(r.nodeApi, url, 'the node record advertises its API as https');
  assert.deepEqual(r.found, r.expected);
  assert.equal(r.turn, true);
  assert.equal(r.ack, 'delivered');
  assert.equal(r.body, 'over wss');
});
