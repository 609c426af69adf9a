const { src, dest } = require('gulp');

/** Copies each node's icons and codex file next to its compiled code: n8n loads them from dist/. */
function buildIcons() {
	return src(['nodes/**/*.{png,svg,json}', 'credentials/**/*.{png,svg}'], {
		base: '.',
		encoding: false,
	}).pipe(dest('dist'));
}

exports['build:icons'] = buildIcons;
