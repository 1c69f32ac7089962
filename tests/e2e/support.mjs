// Shared helpers for the end-to-end suite: start `framescope serve`, launch headless Chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FRAMESCOPE = process.env.FRAMESCOPE_BIN || path.join(ROOT, 'target/debug/framescope');
export const SCREENSHOTS = path.join(ROOT, 'target/screenshots');

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Starts `framescope serve` on a free port and resolves once it printed its URL. */
export async function startServe(extraArgs = [], { timeoutMillis = 30_000 } = {}) {
  const child = spawn(FRAMESCOPE, ['serve', '--port', '0', ...extraArgs], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`framescope serve printed no URL:\n${output}`)), timeoutMillis);
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/Framescope dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`framescope serve exited ${code}:\n${output}`)); });
  });
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** Launches headless Chromium with the flags this network needs. */
export async function launchBrowser(options = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
}

/** A fresh user-data dir (for persistent contexts such as the extension tests). */
export function freshProfileDir(prefix = 'framescope-profile-') {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function screenshotPath(name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name}.png`);
}

/**
 * Waits until `predicate` (run in the page) is true. On a timeout it saves a screenshot as
 * `failureScreenshot` and throws an error naming `what`.
 */
export async function waitInPage(page, predicate, argument, what, { failureScreenshot, timeout = 30_000 }) {
  try {
    await page.waitForFunction(predicate, argument, { timeout, polling: 100 });
  } catch (error) {
    await page.screenshot({ path: screenshotPath(failureScreenshot), fullPage: true });
    throw new Error(`timed out waiting for ${what}: ${error.message}`);
  }
}
