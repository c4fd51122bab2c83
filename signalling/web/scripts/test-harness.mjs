// Shared by the tests that run the real rendezvousd (test/*.test.js): where the binaries are, waiting on
// a condition with a deadline, a node on loopback (ephemeral ports) started and stopped, and a detached
// child's process group killed. Binaries come from $RDV_BIN_DIR (CTest sets it) or ../../build/bin.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const binDir = process.env.RDV_BIN_DIR ?? fileURLToPath(new URL('../../../build/bin', import.meta.url));
export const rendezvousd = join(binDir, 'rendezvousd');
export const rdv = join(binDir, 'rdv');

/** True when every named binary is in binDir. Without one the tests skip, unless RDV_REQUIRE_BINARIES=1
 * (CTest), where that is a failure. */
export function haveBinaries(...names) {
  const have = names.every((n) => existsSync(join(binDir, n)));
  if (!have && process.env.RDV_REQUIRE_BINARIES === '1') throw new Error(`no ${names.join('/')} in ${binDir}`);
  return have;
}

/** The command's path, or '' when it is not installed. */
export function which(command) {
  try {
    return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** Polls `condition` until it returns something truthy (returned) or `ms` pass (throws, naming `what`). */
export async function waitFor(what, condition, ms, stepMs = 25) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await condition();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** rendezvousd on 127.0.0.1 with ephemeral ports, its data in `dir`, and `args` added; resolves once its
 * ready file is written: { process, http (host:port), url, log(), stop() }. A node that does not come up
 * is killed and the promise rejects with its log. */
export async function startNode(dir, args = []) {
  const ready = join(dir, 'ready.json');
  const p = spawn(rendezvousd, ['--ready-file', ready, '--data-dir', join(dir, 'data'), '--http-listen', '127.0.0.1:0',
    '--listen', '127.0.0.1:0', '--log-level', 'warn', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr.on('data', (d) => (log += d));
  const exited = () => p.exitCode !== null || p.signalCode !== null;
  const stop = async () => {
    if (!exited()) p.kill('SIGTERM');
    await waitFor('rendezvousd exit', exited, 10000);
  };
  try {
    await waitFor('rendezvousd ready file', () => existsSync(ready) || exited(), 15000);
  } catch (e) {
    p.kill('SIGKILL');
    throw new Error(`${e.message}: ${log}`);
  }
  if (!existsSync(ready)) throw new Error(`rendezvousd exited: ${log}`);
  const http = JSON.parse(readFileSync(ready, 'utf8')).http;
  return { process: p, http, url: `http://${http}`, log: () => log, stop };
}

/** SIGKILL to a detached child's whole process group (a browser and its helpers); quiet when it is gone. */
export function killGroup(child) {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Headless Chromium (detached: killGroup() ends it and its helpers) on `url`, with a profile in `dir`,
 * candidates on loopback as plain addresses, and its log kept: the child, with .log() for the last 3,000
 * characters. */
export function launchChromium(chromium, dir, url, extraArgs = []) {
  const browser = spawn(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--no-default-browser-check', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-quic', '--disable-extensions', '--disable-dev-shm-usage', '--mute-audio',
    `--user-data-dir=${join(dir, 'profile')}`,
    // Candidates on loopback (the only interface in the test's namespace), as plain addresses.
    '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
    ...extraArgs, '--enable-logging=stderr', '--v=0', url], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  browser.stderr.on('data', (d) => (log += d));
  browser.log = () => log.slice(-3000);
  return browser;
}

/** iptables rules (for -A, and -D in reverse) that drop everything arriving on loopback except TCP to and
 * from `ports`: the direct path cut mid-session, in the test's own network namespace. */
export function loopbackCutRules(ports) {
  const rules = [];
  for (const port of ports.map(String)) {
    rules.push(['INPUT', '-i', 'lo', '-p', 'tcp', '--dport', port, '-j', 'ACCEPT']);
    rules.push(['INPUT', '-i', 'lo', '-p', 'tcp', '--sport', port, '-j', 'ACCEPT']);
  }
  rules.push(['INPUT', '-i', 'lo', '-j', 'DROP']);
  return rules;
}
