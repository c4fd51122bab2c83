// The JavaScript client against the real rendezvousd and the real rdv CLI on loopback: register,
// discover (records made by rdv too), signed ice-servers, and envelopes both ways through the hub
// (JS -> `rdv inbox`, stored and delivered; `rdv send` -> JS inbox).
// Binaries come from $RDV_BIN_DIR (CTest sets it) or ../../build/bin; without them the test is
// skipped, unless RDV_REQUIRE_BINARIES=1 (CTest), where that is a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binDir, haveBinaries, rdv, startNode, waitFor } from '../scripts/test-harness.mjs';
import WebSocket from 'ws';
import { Identity, RendezvousClient, ApiError, rdvSigHeader, registerDigest, bytes, EnrRecord } from '../dist/rendezvous.js';

const haveBoth = haveBinaries('rendezvousd', 'rdv');

/** Runs a command to completion: {code, stdout, stderr}. */
function run(cmd, args, { timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} ${args[0]} did not finish in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('JS client <-> real rendezvousd and rdv', { skip: !haveBoth && `no binaries in ${binDir}`, timeout: 120000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rdv-web-'));
  const node = await startNode(dir, ['--auth-secret', 's3cret-0123456789']);
  const alice = Identity.generate();
  const client = new RendezvousClient({ node: node.url, identity: alice, WebSocket });
  const bobKey = join(dir, 'bob.key');
  const bob = Identity.generate();
  writeFileSync(bobKey, bob.privateKeyHex() + '\n', { mode: 0o600 });
  const children = [];
  t.after(async () => {
    client.close();
    for (const c of children) c.kill('SIGKILL');
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  await t.test('node-info verifies the node record', async () => {
    const info = await client.nodeInfo();
    assert.match(info.nodeId, /^[0-9a-f]{64}$/);
  });

  await t.test('register (JS) and discover records registered by JS and by rdv', async () => {
    const reg = await client.register('web-test', { ttl: 120, fields: { ip: '127.0.0.1', udp: 9 } });
    assert.equal(reg.node_id, alice.nodeId);
    assert.equal(reg.ttl, 120);
    const r = await run(rdv, ['register', '--node', node.url, '--namespace', 'web-test', '--key', bobKey]);
    assert.equal(r.code, 0, r.stderr);
    const found = await client.discover('web-test');
    const ids = found.map((f) => f.nodeId).sort();
    assert.deepEqual(ids, [alice.nodeId, bob.nodeId].sort());
    const mine = found.find((f) => f.nodeId === alice.nodeId);
    assert.equal(mine.record.ip, '127.0.0.1');
    assert.equal(mine.record.udp, 9);
    assert.equal(typeof found.cookie, 'string');
    // rdv discover sees the JS-made record byte for byte.
    const d = await run(rdv, ['discover', '--node', node.url, '--namespace', 'web-test']);
    assert.equal(d.code, 0, d.stderr);
    const rdvView = JSON.parse(d.stdout).registrations.find((x) => x.node_id === alice.nodeId);
    assert.equal(rdvView.enr, mine.enr);
    // Unregister (signed) and register again.
    const gone = await client.unregister('web-test');
    assert.equal(gone.node_id, alice.nodeId);
    assert.ok(!(await client.discover('web-test')).some((f) => f.nodeId === alice.nodeId));
    await client.register('web-test', { ttl: 120 });
    // A bad namespace is the node's JSON error, surfaced as ApiError.
    await assert.rejects(client.register('', {}), (e) => e instanceof ApiError && e.status === 400);
    // Two registrations in a row are signed anew each (a refresh), and both are accepted.
    await client.register('web-test', { ttl: 120 });
    await client.register('web-test', { ttl: 120 });
  });

  await t.test('registration proof: the node refuses a replayed, a stale and a foreign-key request', async () => {
    const post = (body) =>
      fetch(`${node.url}/v1/registrations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const signed = (who, namespace, ttl, time) => {
      const text = who.enr({ udp: 7 });
      const rlpBytes = EnrRecord.fromText(text).encoded;
      return { namespace, enr: text, ttl, time, signature: bytes.toHex(who.sign(registerDigest(namespace, rlpBytes, ttl, time))) };
    };
    const carol = Identity.generate();
    const body = signed(carol, 'web-proof', 120, Date.now());
    assert.equal((await post(body)).status, 201);
    const again = await post(body);
    assert.equal(again.status, 401);
    assert.equal((await again.json()).error, 'replayed_signature');
    const stale = await post(signed(carol, 'web-proof', 120, Date.now() - 120000));
    assert.equal(stale.status, 401);
    assert.equal((await stale.json()).error, 'stale_signature');
    // Signed for another namespace, or by another key than the record's: not a proof.
    assert.equal((await post({ ...signed(carol, 'elsewhere', 120, Date.now()), namespace: 'web-proof' })).status, 422);
    const mallory = Identity.generate();
    const foreign = { ...signed(carol, 'web-proof', 120, Date.now()) };
    foreign.signature = signed(mallory, 'web-proof', 120, foreign.time).signature;
    assert.equal((await post(foreign)).status, 422);
    const missing = await post({ namespace: 'web-proof', enr: carol.enr({}) });
    assert.equal(missing.status, 400);
    assert.equal((await missing.json()).error, 'missing_proof');
  });

  await t.test('ice-servers: the node accepts the JS RDV-Sig and binds the credential to our node id', async () => {
    const servers = await client.iceServers();
    const turn = servers.find((s) => s.username);
    assert.ok(turn, JSON.stringify(servers));
    const [expires, who] = turn.username.split(':');
    assert.equal(who, alice.nodeId);
    assert.ok(Number(expires) > Date.now() / 1000);
    // A node-bound credential: made with the secret derived from the auth secret (docs/operator.md,
    // "Secrets in files": quota keys by kind), not with the shared secret itself.
    const nodeSecret = createHmac('sha256', 's3cret-0123456789').update('rendezvous node-bound TURN credentials v1').digest('hex');
    assert.equal(turn.credential, createHmac('sha1', nodeSecret).update(turn.username).digest('base64'));
    assert.ok(turn.urls.some((u) => u.startsWith('turn:127.0.0.1:')));
    // Again at once: the client signs a fresh header (the node takes each header once).
    const again = await client.iceServers();
    assert.ok(again.find((s) => s.username));
    // The same header twice: the second is a replay (another identity: alice's client keeps its own seconds).
    const nodeId = (await client.nodeInfo()).nodeId;
    const header = rdvSigHeader(Identity.generate(), nodeId);
    const first = await fetch(`${node.url}/v1/ice-servers`, { headers: { Authorization: header } });
    assert.equal(first.status, 200);
    const replay = await fetch(`${node.url}/v1/ice-servers`, { headers: { Authorization: header } });
    assert.equal(replay.status, 401);
    assert.equal((await replay.json()).error, 'replayed_signature');
    // Signed for another node: refused (the signature names the node it is for).
    const reply = await fetch(`${node.url}/v1/ice-servers`, {
      headers: { Authorization: rdvSigHeader(alice, Identity.generate().nodeId) },
    });
    assert.equal(reply.status, 401);
  });

  const bobEnr = (await client.discover('web-test')).find((f) => f.nodeId === bob.nodeId).enr;

  await t.test('JS send -> rdv inbox: one stored in the mailbox, one delivered live', async () => {
    const stored = await client.send(bobEnr, 'stored for bob');
    assert.equal(stored.status, 'stored');
    const inbox = spawn(rdv, ['inbox', '--node', node.url, '--key', bobKey, '--count', '2', '--timeout', '30'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(inbox);
    let out = '';
    let err = '';
    inbox.stdout.on('data', (d) => (out += d));
    inbox.stderr.on('data', (d) => (err += d));
    const exit = new Promise((resolve) => inbox.on('close', resolve));
    await waitFor('rdv inbox to listen', () => err.includes('listening as'), 15000);
    await waitFor('the stored message to reach rdv', () => out.includes('stored for bob'), 15000);
    const live = await client.send(bobEnr, 'live for bob: grüß dich 👋');
    assert.equal(live.status, 'delivered');
    assert.equal(await exit, 0, err);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.body), ['stored for bob', 'live for bob: grüß dich 👋']);
    for (const l of lines) {
      assert.equal(l.from, alice.nodeId);
      assert.equal(l.type, 'message');
    }
    assert.ok(lines[1].seq > lines[0].seq);
  });

  await t.test('rdv send -> JS inbox (one arriving before inbox() is called, one after)', async () => {
    // The client is connected to the hub (it sent above) but reads nothing yet: the message waits.
    const early = await run(rdv, ['send', '--node', node.url, '--key', bobKey, '--to', alice.enr(), 'before inbox']);
    assert.equal(early.code, 0, early.stderr);
    assert.equal(JSON.parse(early.stdout).status, 'delivered');
    const got = [];
    const stop = await client.inbox((m) => got.push(m));
    const r = await run(rdv, ['send', '--node', node.url, '--key', bobKey, '--to', alice.enr(), 'hello from rdv']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).status, 'delivered');
    await waitFor('the messages from rdv', () => got.length >= 2, 10000);
    stop();
    assert.deepEqual(got.map((m) => m.body), ['before inbox', 'hello from rdv']);
    for (const m of got) {
      assert.equal(m.from, bob.nodeId);
      assert.equal(m.type, 'message');
    }
  });
});
