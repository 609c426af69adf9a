// A minimal stand-in for n8n's IExecuteFunctions, enough to drive the nodes' execute() in benchmarks.
const fs = require('node:fs');

function context(
	items,
	parameters,
	{ staticData = {}, credentials, n8nFolder, prepareBinaryData } = {},
) {
	return {
		getInputData: () => items,
		getNode: () => ({
			name: 'bench',
			type: 'bench',
			// The newest Contact Coupon version, as a node added today has.
			typeVersion: 3,
			position: [0, 0],
			parameters: {},
		}),
		getMode: () => 'trigger',
		getTimezone: () => 'UTC',
		continueOnFail: () => false,
		getWorkflowStaticData: () => staticData,
		getCredentials: async () => credentials,
		addExecutionHints: () => undefined,
		getNodeParameter: (name, i, fallback) => {
			const value = name in parameters ? parameters[name] : fallback;
			return typeof value === 'function' ? value(i) : value;
		},
		helpers: {
			// n8n's storage folder for a node type, inside n8n's own folder (the Local storage's home).
			getStoragePath: () => `${n8nFolder}/storage/bench`,
			assertBinaryData: (i, property) => items[i].binary[property],
			// A file n8n keeps on disk (filesystem mode) is read from there, as n8n does.
			getBinaryDataBuffer: async (i, property) => {
				const { id, data } = items[i].binary[property];
				return id ? await fs.promises.readFile(id) : Buffer.from(data, 'base64');
			},
			// As n8n's filesystem mode streams a file it keeps on disk.
			getBinaryStream: async (id) => fs.createReadStream(id),
			prepareBinaryData:
				prepareBinaryData ??
				(async (data, fileName, mimeType) => ({
					data: data.toString('base64'),
					fileName,
					mimeType,
				})),
		},
	};
}

function fileItem(file) {
	return {
		json: {},
		binary: {
			data: {
				data: file.toString('base64'),
				fileName: 'bench.xlsx',
				mimeType: 'application/octet-stream',
			},
		},
	};
}

/** An item whose file n8n keeps on disk (filesystem binary mode): its binary data names the file. */
function diskFileItem(path) {
	return {
		json: {},
		binary: {
			data: { id: path, fileName: 'bench.csv', mimeType: 'application/octet-stream' },
		},
	};
}

module.exports = { context, fileItem, diskFileItem };
