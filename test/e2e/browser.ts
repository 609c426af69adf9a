import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Screenshots of the editor tests; the README's images come from here. */
export const ARTIFACTS = join(__dirname, '../../test-artifacts');

const OWNER = {
	email: 'owner@example.com',
	firstName: 'Coupon',
	lastName: 'Tester',
	password: 'Coupons-E2e-2026',
};

export interface Editor {
	browser: Browser;
	context: BrowserContext;
	page: Page;
}

/**
 * Debian's Chromium (a browser download is not possible here) on the n8n at `port`, logged in as
 * the owner, whom it creates through n8n's REST API as a first visit would.
 */
export async function openEditor(port: number): Promise<Editor> {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
		// Without the networking flags Chromium floods the closed network with requests.
		args: [
			'--no-sandbox',
			'--disable-gpu',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
			'--disable-quic',
			'--no-first-run',
		],
	});
	const context = await browser.newContext({
		baseURL: `http://127.0.0.1:${port}`,
		viewport: { width: 1400, height: 900 },
	});
	expect((await context.request.post('/rest/owner/setup', { data: OWNER })).ok()).toBe(true);
	expect(
		(
			await context.request.post('/rest/login', {
				data: { emailOrLdapLoginId: OWNER.email, password: OWNER.password },
			})
		).ok(),
	).toBe(true);
	mkdirSync(ARTIFACTS, { recursive: true });
	return { browser, context, page: await context.newPage() };
}
