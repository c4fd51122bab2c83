// A browser peer and the native agent: headless Chromium (Debian's) drives test/browser/native.html,
// which imports dist/rendezvous.js and opens a WebRTC data channel to a real `rdv listen` (libnice
// ICE, DTLS, SCTP with libusrsctp, DCEP), through the real rendezvousd's hub: 5 messages sent, each
// echoed back by rdv; and the other way round, the page listens and `rdv connect --webrtc` sends 5
// that the page echoes. Each both directly (host candidates on loopback) and relay-only through the
// node's TURN (both ends relay-only: the relay joins its own two allocations). The page is served by
// the proxy of scripts/serve.mjs, which forwards /v1/ to the node (one origin).
// Skipped without chromium or the binaries (RDV_REQUIRE_BINARIES=1 makes missing binaries a failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../scripts/serve.mjs';
import { binDir, haveBinaries, killGroup, launchChromium, loopbackCutRules, rdv, startNode, waitFor, which } from '../scripts/test-harness.mjs';
import { Identity } from '../dist/rendezvous.js';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const haveBoth = haveBinaries('rendezvousd', 'rdv');
const chromium = which('chromium');
// The direct case gathers host candidates: only where loopback is the sole interface (the test runs
// in a network namespace of its own, tests/web/run_npm_tests.sh), so no check leaves 127.0.0.1.
const onlyLoopback = Object.values(networkInterfaces()).flat().every((i) => i.internal);

/** Collects an rdv command's JSON lines (stdout) and its stderr. */
function jsonLines(child) {
  const out = { events: [], err: '' };
  let partial = '';
  child.stdout.on('data', (d) => {
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop();
    for (const l of lines) if (l.trim()) out.events.push(JSON.parse(l));
  });
  child.stderr.on('data', (d) => (out.err += d));
  return out;
}

const iptables = which('iptables');
const ipt = (op, rule) => execFileSync(iptables, [op, ...rule], { stdio: 'ignore' });

const CASES = [];
for (const mode of ['direct', 'relay']) for (const side of ['rdv-listens', 'browser-listens']) CASES.push({ mode, side });
// The path cut mid-session (iptables in the test's own namespace): both ends continue over the hub.
CASES.push({ mode: 'direct', side: 'rdv-listens', cut: true });

for (const { mode, side, cut } of CASES) {
  const title = cut
    ? 'Chromium -> rdv listen: direct path cut mid-session, 5 more messages echoed through the hub'
    : side === 'rdv-listens'
    ? `Chromium -> rdv listen: data channel ${mode === 'direct' ? 'direct' : 'relay-only through our TURN'}, 5 messages echoed by rdv`
    : `rdv connect --webrtc -> Chromium: data channel ${mode === 'direct' ? 'direct' : 'relay-only through our TURN'}, 5 messages echoed by the page`;
  test(title, {
    skip: (!chromium && 'chromium is not installed') || (!haveBoth && `no rendezvousd/rdv in ${binDir}`) ||
      (mode === 'direct' && !onlyLoopback && 'interfaces besides loopback: direct checks would leave 127.0.0.1') ||
      (cut && (!iptables || process.getuid?.() !== 0) && 'cutting the path needs iptables and root (in its own namespace)'),
    timeout: 180000,
  }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rdv-web-native-'));
    let node;
    let native;
    let browser;
    let proxy;
    const rules = [];
    t.after(async () => {
      for (const r of rules.reverse()) {
        try {
          ipt('-D', r);
        } catch {
          /* gone */
        }
      }
      killGroup(browser);
      native?.kill('SIGKILL');
      proxy?.closeAllConnections?.();
      proxy?.close();
      await node?.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    node = await startNode(dir, ['--auth-secret', 'chromium-native-secret']);
    const http = node.http;
    const bob = Identity.generate();
    const key = join(dir, 'bob.key');
    writeFileSync(key, bob.privateKeyHex() + '\n', { mode: 0o600 });
    const namespace = `chromium-native-${mode}${cut ? '-cut' : ''}`;
    const common = ['--node', `http://${http}`, '--key', key, '--namespace', namespace, '--local-address', '127.0.0.1'];
    if (mode === 'relay') common.push('--relay-only');

    let rdvOut = { events: [], err: '' };
    if (side === 'rdv-listens') {
      native = spawn(rdv, ['listen', ...common, '--timeout', '120'], { stdio: ['ignore', 'pipe', 'pipe'] });
      rdvOut = jsonLines(native);
      await waitFor('rdv listen', () => rdvOut.events.some((e) => e.event === 'listening') || native.exitCode !== null, 20000);
      assert.ok(rdvOut.events.some((e) => e.event === 'listening'), rdvOut.err + JSON.stringify(rdvOut.events));
    }

    let result;
    let pageId;
    const collect = (onBody) => (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        res.end('ok');
        onBody(body);
      });
    };
    proxy = await startServer({ root: here('..').replace(/\/$/, ''), node: new URL(`http://${http}`), routes: {
      '/result': collect((b) => (result = JSON.parse(b))),
      '/ready': collect((b) => (pageId = b)),
      // Drops everything on loopback but TCP to and from the page's server and the node's HTTP port.
      '/cut': (req, res) => {
        rules.push(...loopbackCutRules([proxy.address().port, http.slice(http.lastIndexOf(':') + 1)]));
        try {
          for (const r of rules) ipt('-A', r);
          res.end('cut');
        } catch (e) {
          res.statusCode = 500;
          res.end(String(e));
        }
      },
    } });
    const query = (side === 'rdv-listens' ? `peer=${bob.nodeId}` : 'mode=listen') + (cut ? '&cut=1' : '');
    const url = `http://127.0.0.1:${proxy.address().port}/test/browser/native.html?relayOnly=${mode === 'relay' ? 1 : 0}` +
      `&namespace=${namespace}&${query}`;
    browser = launchChromium(chromium, dir, url);
    const context = () => `\nrdv:\n${rdvOut.events.map((e) => JSON.stringify(e)).join('\n')}\n${rdvOut.err}` +
      `\nchromium:\n${browser.log()}\nnode:\n${node.log()}`;

    if (side === 'browser-listens') {
      await waitFor('the page to listen', () => pageId !== undefined || result !== undefined || browser.exitCode !== null, 60000)
        .catch(() => {});
      assert.ok(pageId, `the page did not listen${context()}`);
      native = spawn(rdv, ['connect', ...common, '--to', pageId, '--webrtc', '--count', '5', '--timeout', '60'],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      rdvOut = jsonLines(native);
      await waitFor('rdv connect to finish', () => native.exitCode !== null, 90000).catch(() => {});
      assert.equal(native.exitCode, 0, `rdv connect failed${context()}`);
      const done = rdvOut.events.find((e) => e.event === 'done');
      assert.ok(done, context());
      assert.equal(done.received, 5);
      assert.equal(done.in_order, true);
    }
    await waitFor('the page to report', () => result !== undefined || browser.exitCode !== null, 150000).catch(() => {});
    assert.ok(result, `no result from the page${context()}`);
    assert.equal(result.status, 'pass', `${result.error}\n${(result.log ?? []).join('\n')}${context()}`);
    // The page can finish its 5 echoes before rdv's ICE check list reaches its nominated pair (data flows
    // on a valid pair before that; rdv prints `connected` on nomination): wait for the line, bounded.
    await waitFor('rdv to report connected', () => rdvOut.events.some((e) => e.event === 'connected'), 15000).catch(() => {});
    const connected = rdvOut.events.find((e) => e.event === 'connected');
    assert.ok(connected, context());
    if (side === 'rdv-listens') {
      assert.equal(result.echoed, 5);
      // The listener saw the same session: 5 messages in, all on the data channel, then the bye.
      await waitFor('rdv listen to see the bye', () => rdvOut.events.some((e) => e.event === 'closed'), 15000).catch(() => {});
      const closed = rdvOut.events.find((e) => e.event === 'closed');
      assert.ok(closed, context());
      if (cut) {
        // 5 on the channel, 5 through the hub after the cut; both ends moved to the hub.
        assert.deepEqual(result.afterCut.got, ['msg 5', 'msg 6', 'msg 7', 'msg 8', 'msg 9'], context());
        assert.equal(result.afterCut.path, 'hub');
        assert.equal(closed.received, 10, context());
        assert.equal(closed.via_fast, 5, context());
        assert.equal(closed.via_hub, 5, context());
        const fallback = rdvOut.events.find((e) => e.event === 'fallback');
        assert.ok(fallback, context());
        t.diagnostic(`after the cut: 5 echoes through the hub in ${result.afterCut.elapsedMs} ms (browser: ${result.afterCut.reason}, rdv: ${fallback.reason})`);
      } else {
        assert.equal(closed.received, 5, context());
        assert.equal(closed.via_fast, 5, context());
      }
      t.diagnostic(`browser connect + 5 echoes: ${result.elapsedMs} ms`);
    } else {
      assert.deepEqual(result.got, ['msg 0', 'msg 1', 'msg 2', 'msg 3', 'msg 4']);
      const done = rdvOut.events.find((e) => e.event === 'done');
      t.diagnostic(`rdv connect --webrtc + 5 echoes: ${done.elapsed_ms} ms (first byte ${connected.time_to_first_byte_ms} ms)`);
    }
    const path = mode === 'relay' ? 'relayed' : 'direct';
    assert.equal(result.path, path, context());
    assert.equal(connected.path, path, context());
    if (mode === 'relay') {
      assert.equal(result.local, 'relay');
      assert.equal(connected.local, 'relay', context());
    }
  });
}
