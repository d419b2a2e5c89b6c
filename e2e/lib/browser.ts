/**
 * A real Chromium (Debian's, installed by hack/install-system-packages.sh) driven by playwright-core, for the
 * dashboard's tests and benchmark; axe-core for accessibility; screenshots kept as test artifacts.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The page's globals, for code that runs in the browser (this package is compiled without the DOM library, for Node's own fetch types). */
export type PageWindow = Record<string, any>;
declare const window: PageWindow;

const ROOT = new URL('../../../', import.meta.url).pathname;
/** Where screenshots go: TEST_ARTIFACTS_DIR, else .artifacts/ in the repository (ignored by git). */
export const ARTIFACTS = join(process.env.TEST_ARTIFACTS_DIR ?? join(ROOT, '.artifacts'), 'dashboard');

export async function launchChromium(): Promise<Browser> {
  // Root has no user namespaces for Chromium's sandbox here; the pages it opens are the test's own.
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's serious and critical violations on the page as it is now (run in the page's own context). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = window.axe as { run(o: unknown): Promise<{ violations: AxeViolation[] }> };
    return (await axe.run({ resultTypes: ['violations'] })).violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
