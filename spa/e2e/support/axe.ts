// axe-core in the page under test. page.evaluate runs over the DevTools protocol, so the console's CSP
// (no inline script) does not stand in the way, and nothing is added to the page itself.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, type Page } from '@playwright/test';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

// Fails on any serious or critical violation, naming each rule and the elements.
export async function expectAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // @ts-expect-error axe is the global the source above defined
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations as Violation[];
  });
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`);
  expect(bad, `accessibility of ${what}`).toEqual([]);
}
