/** Debian's Chromium driven by playwright-core (no browser download: the real system browser). */
import { chromium, type Browser, type Page } from 'playwright-core';

/** playwright's launch() gives every browser a fresh, empty profile directory of its own. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Log in through the Node-RED editor's own login form (adminAuth). */
export async function loginToEditor(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url, { timeout: 120_000 }); // the editor's first load is slow on a busy 2-core machine
  await page.waitForSelector('#node-dialog-login-username', { timeout: 60_000 });
  await page.fill('#node-dialog-login-username', username);
  await page.fill('#node-dialog-login-password', password);
  await page.click('#node-dialog-login-submit');
}
