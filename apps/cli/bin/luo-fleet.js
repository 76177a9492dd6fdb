#!/usr/bin/env node
'use strict';
/* global require, __dirname, process */
/* eslint-disable @typescript-eslint/no-require-imports */
// The CLI is compiled by `npm run build` (part of the README's set-up command) into dist/.
const path = require('node:path');
const entry = path.resolve(__dirname, '../../../dist/apps/cli/src/main.js');
try {
  require.resolve(entry);
} catch {
  process.stderr.write('luo-fleet: not built yet; run `npm run build` in the repository root first\n');
  process.exit(2);
}
require(entry);
