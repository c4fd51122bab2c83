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
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../scripts/serve.mjs';
import { binDir, haveBinaries, killGroup, launchChromium, loopbackCutRules, startNode, waitFor, which } from '../scripts/test-harness.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const haveNode = haveBinaries('rendezvousd');
const chromium = which('chromium');
const iptables = which('iptables');
const onlyLoopback = Object.values(networkInterfaces()).flat().every((i) => i.internal);
const isRoot = process.getuid?.() === 0;

test('Chromium: browser <-> browser, direct path cut mid-session, continues over the hub', {
  skip: (!chromium && 'chromium is not installed') || (!haveNode && `no rendezvousd in ${binDir}`) ||
    (!iptables && 'iptables is not installed') ||
    ((!onlyLoopback || !isRoot) && 'needs root in a namespace whose only interface is loopback (run_npm_tests.sh)'),
  timeout: 180000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rdv-web-fallback-'));
  let node;
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
    killGroup(browser);
    proxy?.closeAllConnections?.();
    proxy?.close();
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  node = await startNode(dir, ['--auth-secret', 'chromium-fallback-secret']);
  const http = node.http;
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
      rules = loopbackCutRules([proxy.address().port, httpPort]);
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
  browser = launchChromium(chromium, dir, url);
  await waitFor('the page to report', () => result !== undefined || browser.exitCode !== null, 150000).catch(() => {});
  assert.ok(result, `no result from the page\nchromium:\n${browser.log()}\nnode:\n${node.log()}`);
  assert.equal(result.status, 'pass', `${result.error}\n${(result.log ?? []).join('\n')}\nnode:\n${node.log()}`);
  assert.ok(cutAt, 'the path was never cut');
  assert.equal(result.pathBefore, 'direct');
  assert.deepEqual(result.got, ['msg 5', 'msg 6', 'msg 7', 'msg 8', 'msg 9']);
  assert.equal(result.alicePath, 'hub');
  assert.equal(result.bobPath, 'hub');
  t.diagnostic(`5 messages echoed through the hub ${result.elapsedMs} ms after the cut (alice: ${result.aliceReason}, bob: ${result.bobReason})`);
});
