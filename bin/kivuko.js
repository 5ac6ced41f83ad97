#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Kivuko's TypeScript runs directly on Node 24, which `npm ci` installs into node_modules (the `node`
// devDependency); `npx kivuko` and `npm run` put it first on PATH.
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  process.stderr.write(`kivuko needs Node 24 or later, this is ${process.version}: run it as \`npx kivuko\` after \`npm ci\`\n`)
  process.exit(1)
}
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(process.argv.slice(2), process.env)
