// Browser <-> browser with the path cut mid-session: headless Chromium drives
// test/browser/fallback.html (two clients in one page, a direct data channel between them through
// the real rendezvousd). After 5 messages echoed, the page asks for the cut (POST /cut) and this
// test drops every packet on loopback except TCP to and from the page's server and the node's HTTP
// port (iptables, in the network namespace the test runs in, so nothing outside is touched): ICE
// loses the path, both connections fall back to the hub, and the 5 messages sent after the cut
// come back echoed, in order, through the hub. Runs only as root in a namespace whose only interface
// is loopback (tests/web/run_npm_tests.sh); skipped elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../scripts/serve.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const binDir = process.env.RDV_BIN_DIR ?? here('../../../build/bin');
const rendezvousd = join(binDir, 'rendezvousd');
const haveBinaries = existsSync(rendezvousd);
if (!haveBinaries && process.env.RDV_REQUIRE_BINARIES === '1') throw new Error(`no rendezvousd in ${binDir}`);
const which = (cmd) => {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};
const chromium = which('chromium');
const iptables = which('iptables');
const onlyLoopback = Object.values(networkInterfaces()).flat().every((i) => i.internal);
const isRoot = process.getuid?.() === 0;

async function waitFor(what, condition, ms) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await condition();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('Chromium: browser <-> browser, direct path cut mid-session, continues over the hub', {
  skip: (!chromium && 'chromium is not installed') || (!haveBinaries && `no rendezvousd in ${binDir}`) ||
    (!iptables && 'iptables is not installed') ||
    ((!onlyLoopback || !isRoot) && 'needs root in a namespace whose only interface is loopback (run_npm_tests.sh)'),
  timeout: 180000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rdv-web-fallback-'));
  const ready = join(dir, 'ready.json');
  const node = spawn(rendezvousd, ['--ready-file', ready, '--data-dir', join(dir, 'data'), '--http-listen', '127.0.0.1:0',
    '--listen', '127.0.0.1:0', '--auth-secret', 'chromium-fallback-secret', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let nodeLog = '';
  node.stderr.on('data', (d) => (nodeLog += d));
  let browser;
  let proxy;
  let rules = [];
  const ipt = (args) => execFileSync(iptables, args, { stdio: 'ignore' });
  t.after(async () => {
    for (const r of rules.reverse()) {
      try {
        ipt(['-D', ...r]);
      } catch {
        /* already gone */
      }
    }
    if (browser?.pid) {
      try {
        process.kill(-browser.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    proxy?.closeAllConnections?.();
    proxy?.close();
    node.kill('SIGTERM');
    await waitFor('rendezvousd exit', () => node.exitCode !== null || node.signalCode !== null, 10000);
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor('rendezvousd ready', () => existsSync(ready) || node.exitCode !== null, 15000);
  assert.ok(existsSync(ready), nodeLog);
  const http = JSON.parse(readFileSync(ready, 'utf8')).http;
  const httpPort = http.slice(http.lastIndexOf(':') + 1);
  let result;
  let cutAt;
  const body = (onBody) => (req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => onBody(b, res));
  };
  proxy = await startServer({ root: here('..').replace(/\/$/, ''), node: new URL(`http://${http}`), routes: {
    '/result': body((b, res) => {
      res.end('ok');
      result = JSON.parse(b);
    }),
    '/cut': body((_, res) => {
      const pagePort = String(proxy.address().port);
      rules = [];
      for (const port of [pagePort, httpPort]) {
        rules.push(['INPUT', '-i', 'lo', '-p', 'tcp', '--dport', port, '-j', 'ACCEPT']);
        rules.push(['INPUT', '-i', 'lo', '-p', 'tcp', '--sport', port, '-j', 'ACCEPT']);
      }
      rules.push(['INPUT', '-i', 'lo', '-j', 'DROP']);
      try {
        for (const r of rules) ipt(['-A', ...r]);
        cutAt = Date.now();
        res.end('cut');
      } catch (e) {
        res.statusCode = 500;
        res.end(String(e));
      }
    }),
  } });
  const url = `http://127.0.0.1:${proxy.address().port}/test/browser/fallback.html?namespace=chromium-fallback`;
  let browserLog = '';
  browser = spawn(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
    '--disable-extensions', '--disable-dev-shm-usage', '--mute-audio', `--user-data-dir=${join(dir, 'profile')}`,
    '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
    '--enable-logging=stderr', '--v=0', url], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  browser.stderr.on('data', (d) => (browserLog += d));
  await waitFor('the page to report', () => result !== undefined || browser.exitCode !== null, 150000).catch(() => {});
  assert.ok(result, `no result from the page\nchromium:\n${browserLog.slice(-3000)}\nnode:\n${nodeLog}`);
  assert.equal(result.status, 'pass', `${result.error}\n${(result.log ?? []).join('\n')}\nnode:\n${nodeLog}`);
  assert.ok(cutAt, 'the path was never cut');
  assert.equal(result.pathBefore, 'direct');
  assert.deepEqual(result.got, ['msg 5', 'msg 6', 'msg 7', 'msg 8', 'msg 9']);
  assert.equal(result.alicePath, 'hub');
  assert.equal(result.bobPath, 'hub');
  t.diagnostic(`5 messages echoed through the hub ${result.elapsedMs} ms after the cut (alice: ${result.aliceReason}, bob: ${result.bobReason})`);
});
