// A browser peer and the native agent: headless Chromium (Debian's) drives test/browser/native.html,
// which imports dist/rendezvous.js and opens a WebRTC data channel to a real `rdv listen` (libnice
// ICE, DTLS, SCTP with libusrsctp, DCEP), through the real rendezvousd's hub: 5 messages sent, each
// echoed back by rdv. Both directly (host candidates on loopback) and relay-only through the node's
// TURN (both ends relay-only: the relay joins its own two allocations). The page is served by the
// proxy of scripts/serve.mjs, which forwards /v1/ to the node (one origin).
// Skipped without chromium or the binaries (RDV_REQUIRE_BINARIES=1 makes missing binaries a failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../scripts/serve.mjs';
import { Identity } from '../dist/rendezvous.js';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const binDir = process.env.RDV_BIN_DIR ?? here('../../../build/bin');
const rendezvousd = join(binDir, 'rendezvousd');
const rdv = join(binDir, 'rdv');
const haveBinaries = existsSync(rendezvousd) && existsSync(rdv);
if (!haveBinaries && process.env.RDV_REQUIRE_BINARIES === '1') throw new Error(`no rendezvousd/rdv in ${binDir}`);
let chromium;
try {
  chromium = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
} catch {
  chromium = '';
}
// The direct case gathers host candidates: only where loopback is the sole interface (the test runs
// in a network namespace of its own, tests/web/run_npm_tests.sh), so no check leaves 127.0.0.1.
const onlyLoopback = Object.values(networkInterfaces()).flat().every((i) => i.internal);

async function waitFor(what, condition, ms) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await condition();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function killGroup(child) {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

for (const mode of ['direct', 'relay']) {
  test(`Chromium <-> rdv listen: data channel ${mode === 'direct' ? 'direct' : 'relay-only through our TURN'}, 5 messages echoed`, {
    skip: (!chromium && 'chromium is not installed') || (!haveBinaries && `no rendezvousd/rdv in ${binDir}`) ||
      (mode === 'direct' && !onlyLoopback && 'interfaces besides loopback: direct checks would leave 127.0.0.1'),
    timeout: 180000,
  }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rdv-web-native-'));
    const ready = join(dir, 'ready.json');
    const node = spawn(rendezvousd, ['--ready-file', ready, '--data-dir', join(dir, 'data'), '--http-listen', '127.0.0.1:0',
      '--listen', '127.0.0.1:0', '--auth-secret', 'chromium-native-secret', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let nodeLog = '';
    node.stderr.on('data', (d) => (nodeLog += d));
    let listener;
    let browser;
    let proxy;
    t.after(async () => {
      killGroup(browser);
      listener?.kill('SIGKILL');
      proxy?.closeAllConnections?.();
      proxy?.close();
      node.kill('SIGTERM');
      await waitFor('rendezvousd exit', () => node.exitCode !== null || node.signalCode !== null, 10000);
      rmSync(dir, { recursive: true, force: true });
    });
    await waitFor('rendezvousd ready', () => existsSync(ready) || node.exitCode !== null, 15000);
    assert.ok(existsSync(ready), nodeLog);
    const http = JSON.parse(readFileSync(ready, 'utf8')).http;

    // rdv listen: its key, registered in the namespace; every JSON event line kept.
    const bob = Identity.generate();
    const key = join(dir, 'bob.key');
    writeFileSync(key, bob.privateKeyHex() + '\n', { mode: 0o600 });
    const namespace = `chromium-native-${mode}`;
    const args = ['listen', '--node', `http://${http}`, '--key', key, '--namespace', namespace, '--local-address', '127.0.0.1',
      '--timeout', '120'];
    if (mode === 'relay') args.push('--relay-only');
    listener = spawn(rdv, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const events = [];
    let listenerOut = '';
    let listenerErr = '';
    listener.stdout.on('data', (d) => {
      listenerOut += d;
      const lines = listenerOut.split('\n');
      listenerOut = lines.pop();
      for (const l of lines) if (l.trim()) events.push(JSON.parse(l));
    });
    listener.stderr.on('data', (d) => (listenerErr += d));
    await waitFor('rdv listen', () => events.some((e) => e.event === 'listening') || listener.exitCode !== null, 20000);
    assert.ok(events.some((e) => e.event === 'listening'), listenerErr + JSON.stringify(events));

    let result;
    proxy = await startServer({ root: here('..').replace(/\/$/, ''), node: new URL(`http://${http}`), routes: {
      '/result': (req, res) => {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          res.end('ok');
          result = JSON.parse(body);
        });
      },
    } });
    const url = `http://127.0.0.1:${proxy.address().port}/test/browser/native.html?relayOnly=${mode === 'relay' ? 1 : 0}` +
      `&namespace=${namespace}&peer=${bob.nodeId}`;
    let browserLog = '';
    browser = spawn(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
      '--disable-extensions', '--disable-dev-shm-usage', '--mute-audio', `--user-data-dir=${join(dir, 'profile')}`,
      '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--enable-logging=stderr', '--v=0', url], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    browser.stderr.on('data', (d) => (browserLog += d));
    await waitFor('the page to report', () => result !== undefined || browser.exitCode !== null, 150000).catch(() => {});
    const context = () => `\nrdv listen:\n${events.map((e) => JSON.stringify(e)).join('\n')}\n${listenerErr}` +
      `\nchromium:\n${browserLog.slice(-3000)}\nnode:\n${nodeLog}`;
    assert.ok(result, `no result from the page${context()}`);
    assert.equal(result.status, 'pass', `${result.error}\n${(result.log ?? []).join('\n')}${context()}`);
    assert.equal(result.echoed, 5);
    // The listener saw the same session: connected on the same kind of path, 5 messages in, and the
    // browser's bye.
    await waitFor('rdv listen to see the bye', () => events.some((e) => e.event === 'closed'), 15000).catch(() => {});
    const connected = events.find((e) => e.event === 'connected');
    assert.ok(connected, context());
    const closed = events.find((e) => e.event === 'closed');
    assert.ok(closed, context());
    assert.equal(closed.received, 5, context());
    assert.equal(closed.via_fast, 5, context());
    if (mode === 'relay') {
      assert.equal(result.path, 'relayed');
      assert.equal(result.local, 'relay');
      assert.equal(connected.path, 'relayed', context());
    } else {
      assert.equal(result.path, 'direct');
      assert.equal(connected.path, 'direct', context());
    }
    t.diagnostic(`browser connect + 5 echoes: ${result.elapsedMs} ms; rdv rtt ${connected.rtt_ms ?? '?'} ms`);
  });
}
