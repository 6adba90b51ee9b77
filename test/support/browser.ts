/** Debian's Chromium driven by playwright-core (no browser download: the real system browser). */
import { chromium, type Browser } from 'playwright-core';

/** playwright's launch() gives every browser a fresh, empty profile directory of its own. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}
