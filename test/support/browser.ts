import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (the dashboard is tested in a real browser, driven by playwright-core: docs/testing.md). */
export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}
