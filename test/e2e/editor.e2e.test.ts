import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, openEditor } from './browser';
import { examples, importInto, prepareN8n, startN8n, waitForN8n } from './n8nCli';

const PORT = 5699;

let userFolder: string;
let server: ChildProcess;
let browser: Browser;
let page: Page;

beforeAll(async () => {
	userFolder = prepareN8n();
	importInto(
		userFolder,
		'workflow',
		examples(
			'coupons-static-data',
			'render-email-placeholders',
			'checkout-redeem-webhook',
			'create-shop-codes',
			'assign-coupon-webhook',
			'coupon-events',
		),
	);
	// A broker port of its own: every n8n opens one, and the default 5679 may be another n8n's.
	server = startN8n(
		userFolder,
		['start'],
		{ N8N_PORT: String(PORT), N8N_RUNNERS_BROKER_PORT: '5689' },
		'ignore',
	);
	await waitForN8n(PORT);
	({ browser, page } = await openEditor(PORT));
}, 25 * 60_000);

afterAll(async () => {
	await browser?.close();
	server?.kill('SIGTERM');
	await new Promise((resolve) => setTimeout(resolve, 2000));
	rmSync(userFolder, { recursive: true, force: true });
});

async function openPanel(
	nodeName: string,
	workflowId = 'couponsExample03',
): Promise<ReturnType<Page['locator']>> {
	await page.goto(`/workflow/${workflowId}`);
	const node = page.locator('[data-test-id="canvas-node"]').filter({ hasText: nodeName });
	await node.first().dblclick({ timeout: 60_000 });
	const panel = page.locator('[data-test-id="ndv"]');
	await panel.getByText('Parameters', { exact: true }).first().waitFor();
	return panel;
}

/** The node's icon, as the browser loaded it: an SVG that n8n serves from the installed package. */
async function expectIconLoaded(panel: ReturnType<Page['locator']>): Promise<void> {
	const icon = panel.locator('img[src*="coupon"]').first();
	await icon.waitFor();
	expect(
		await icon.evaluate(
			(img) =>
				(img as unknown as { complete: boolean; naturalWidth: number }).complete &&
				(img as unknown as { naturalWidth: number }).naturalWidth > 0,
		),
	).toBe(true);
}

/** Hovers the parameter's help icon (n8n shows it when the row is hovered) and waits for its tooltip. */
async function expectHelpText(
	panel: ReturnType<Page['locator']>,
	label: string,
	help: string,
): Promise<void> {
	const item = panel
		.locator('.parameter-item')
		.filter({ has: page.getByText(label, { exact: true }) })
		.first();
	await item.hover();
	await item.locator('[data-icon="circle-help"]').first().hover();
	await page.getByText(help, { exact: false }).first().waitFor({ timeout: 10_000 });
}

it('shows what each Contact Coupon does under its name on the canvas', async () => {
	await page.goto('/workflow/couponsExample03');
	const node = page
		.locator('[data-test-id="canvas-node"]')
		.filter({ hasText: 'Contact Coupon' })
		.first();
	await node.waitFor({ timeout: 60_000 });
	await expect(node.innerText()).resolves.toContain('Generate: SPRING10');
	await page.goto('/workflow/couponsExample05');
	const redeem = page
		.locator('[data-test-id="canvas-node"]')
		.filter({ hasText: 'Redeem Code' })
		.first();
	await redeem.waitFor({ timeout: 60_000 });
	await expect(redeem.innerText()).resolves.toMatch(/Redeem Code[\s\S]*Redeem Code/);
});

it('shows the No Coupon output on the canvas where Generate for Contact sends items there', async () => {
	await page.goto('/workflow/couponsExample02');
	const outputs = page.locator(
		'[data-test-id="canvas-node-output-handle"][data-node-name="Contact Coupon"]',
	);
	await outputs.first().waitFor({ timeout: 60_000 });
	// Coupon and No Coupon, then the error output that On Error adds.
	await expect(outputs.count()).resolves.toBe(3);
	const labels = (await outputs.allInnerTexts()).map((label) => label.trim());
	expect(labels.slice(0, 2)).toEqual(['Coupon', 'No Coupon']);
	await page.goto('/workflow/couponsExample03');
	const single = page.locator(
		'[data-test-id="canvas-node-output-handle"][data-node-name="Contact Coupon"]',
	);
	await single.first().waitFor({ timeout: 60_000 });
	// Fail the Item (the default): one output, and the error output.
	await expect(single.count()).resolves.toBe(2);
	expect(await single.allInnerTexts()).not.toContain('No Coupon');
});

it('shows the Contact Coupon panel with its parameters, help texts, notices and icon', async () => {
	const panel = await openPanel('Contact Coupon');
	for (const label of [
		'Operation',
		'Storage',
		'Coupon Name',
		'Length',
		'Valid (Days)',
		'Contact',
		'If No Coupon Is Available',
		'Options',
	]) {
		await expect(panel.getByText(label, { exact: true }).first().isVisible()).resolves.toBe(true);
	}
	// Length is at its default, so there is nothing to say about imported lists ignoring it.
	await expect(panel.getByText(/Imported lists keep their own values/).count()).resolves.toBe(0);
	await expect(
		panel.getByText(/Static data is kept by this workflow only/).isVisible(),
	).resolves.toBe(true);
	await expectHelpText(panel, 'Length', 'Random characters in each generated code, up to 64');
	await expectHelpText(
		panel,
		'Valid (Days)',
		'How many days the coupon can be used after it is assigned',
	);
	await expectIconLoaded(panel);
	await page.mouse.move(0, 0);
	await page.screenshot({ path: join(ARTIFACTS, 'contact-coupon-panel.png') });
});

it('shows Render Placeholders with the Generate settings it assigns with', async () => {
	const panel = await openPanel('Render Placeholders', 'couponsExample08');
	for (const label of [
		'Operation',
		'Text',
		'Contact',
		'If Contact Has No Active Coupon',
		'Length',
		'Valid (Days)',
		'Prefix',
	]) {
		await expect(panel.getByText(label, { exact: true }).first().isVisible()).resolves.toBe(true);
	}
	await expectHelpText(panel, 'Text', 'is replaced with the contact');
	await expectHelpText(
		panel,
		'If Contact Has No Active Coupon',
		'What to do with a placeholder for a coupon the contact does not hold',
	);
	await page.mouse.move(0, 0);
	await page.screenshot({ path: join(ARTIFACTS, 'render-placeholders-panel.png') });
});

it('shows Redeem Code with the code and its checkout options', async () => {
	const panel = await openPanel('Redeem Code', 'couponsExample05');
	for (const label of ['Operation', 'Code', 'Options', 'Contact', 'Order Reference']) {
		await expect(panel.getByText(label, { exact: true }).first().isVisible()).resolves.toBe(true);
	}
	// Parameters of other operations stay hidden.
	for (const label of ['Length', 'Valid (Days)', 'Text', 'If Contact Has No Active Coupon']) {
		await expect(panel.getByText(label, { exact: true }).count()).resolves.toBe(0);
	}
	await expectHelpText(panel, 'Code', 'The code the customer entered');
	await page.mouse.move(0, 0);
	await page.screenshot({ path: join(ARTIFACTS, 'redeem-code-panel.png') });
});

it('shows the Coupon Import panel with its parameters, help texts and icon', async () => {
	const panel = await openPanel('Coupon Import');
	for (const label of ['Storage', 'Input Binary Field', 'Coupon Name', 'Mode', 'Options']) {
		await expect(panel.getByText(label, { exact: true }).first().isVisible()).resolves.toBe(true);
	}
	await expect(
		panel
			.getByText('The name of the input binary field containing the .xlsx or CSV file to import')
			.isVisible(),
	).resolves.toBe(true);
	await expectHelpText(
		panel,
		'Coupon Name',
		'Leave empty to import each row into the coupon named',
	);
	await expectIconLoaded(panel);
	await page.mouse.move(0, 0);
	await page.screenshot({ path: join(ARTIFACTS, 'coupon-import-panel.png') });
});

it('shows Create Codes and Export Codes with their parameters and help texts, and only theirs', async () => {
	const create = await openPanel('Create Codes', 'couponsExample15');
	for (const label of ['Coupon Name', 'Count', 'Length', 'Options', 'Pattern', 'Check Character']) {
		await expect(create.getByText(label, { exact: true }).first().isVisible()).resolves.toBe(true);
	}
	for (const label of ['Valid (Days)', 'Contact', 'Code', 'Status']) {
		await expect(create.getByText(label, { exact: true }).count()).resolves.toBe(0);
	}
	await expectHelpText(create, 'Count', 'How many new codes to make, up to 1,000,000 per run');
	await page.mouse.move(0, 0);
	await page.screenshot({ path: join(ARTIFACTS, 'create-codes-panel.png') });

	const exporter = await openPanel('Export Unused Codes', 'couponsExample15');
	for (const label of ['Coupon Name', 'Status', 'Options', 'File Format', 'File Name']) {
		await expect(exporter.getByText(label, { exact: true }).first().isVisible()).resolves.toBe(
			true,
		);
	}
	await expect(exporter.getByText('Count', { exact: true }).count()).resolves.toBe(0);
	await expectHelpText(exporter, 'Status', 'Which codes the file lists');
});

it('shows the Coupon Trigger panel: Poll Times, the Event’s own settings only, Local and PostgreSQL only', async () => {
	const low = await openPanel('Code List Low', 'couponsExample25');
	for (const label of [
		'Poll Times',
		'Event',
		'Storage',
		'Coupon Names',
		'Fewer Available Codes Than',
		'Fewer Days of Stock Than',
		'Options',
	])
		await expect(low.getByText(label, { exact: true }).first().isVisible()).resolves.toBe(true);
	await expect(low.getByText('Days Before the End', { exact: true }).count()).resolves.toBe(0);
	await expect(
		low.getByText(/Events show at the first poll two minutes or more after they happen/).count(),
	).resolves.toBe(0);
	await expectHelpText(low, 'Coupon Names', 'The coupons to watch, separated by commas');
	await expectIconLoaded(low);
	await page.mouse.move(0, 0);
	await page.screenshot({ path: join(ARTIFACTS, 'coupon-trigger-panel.png') });
	// The storages a trigger can watch: not workflow static data.
	await low
		.locator('.parameter-item')
		.filter({ has: page.getByText('Storage', { exact: true }) })
		.first()
		.locator('input')
		.first()
		.click();
	await page.getByText('Database (PostgreSQL)', { exact: true }).first().waitFor();
	await expect(page.getByText('Workflow Static Data', { exact: true }).count()).resolves.toBe(0);
	await page.keyboard.press('Escape');

	const expiring = await openPanel('Coupon Expiring Soon', 'couponsExample25');
	await expect(
		expiring.getByText('Days Before the End', { exact: true }).first().isVisible(),
	).resolves.toBe(true);
	await expect(
		expiring.getByText('Fewer Available Codes Than', { exact: true }).count(),
	).resolves.toBe(0);
	await expect(
		expiring
			.getByText(/Events show at the first poll two minutes or more after they happen/)
			.isVisible(),
	).resolves.toBe(true);
});
