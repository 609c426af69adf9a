// `npm test` and `npm run test:e2e`: jest on a Node that has node:sqlite (see node24.js).
const path = require('node:path');
const { runWithSqliteNode } = require('./node24');

const jest = path.join(path.dirname(require.resolve('jest/package.json')), 'bin', 'jest.js');
runWithSqliteNode([jest, ...process.argv.slice(2)]);
