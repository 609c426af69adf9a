// Lets a child process `require` the TypeScript sources directly (node -r ./test/helpers/tsRegister.js),
// so the concurrency tests run real separate processes without a build step.
const fs = require('node:fs');
const ts = require('typescript');

const compilerOptions = {
	module: ts.ModuleKind.CommonJS,
	target: ts.ScriptTarget.ES2022,
	esModuleInterop: true,
};

require.extensions['.ts'] = (module, filename) => {
	const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
		compilerOptions,
		fileName: filename,
	});
	module._compile(outputText, filename);
};
