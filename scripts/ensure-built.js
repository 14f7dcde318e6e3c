#!/usr/bin/env node
// Builds the addon (release) when the .node file is missing or older than the Rust sources.
// `npm start`, `npm test` and `npm run bench` call it, so a fresh clone needs no separate build step.
'use strict'
const fs = require('fs')
const path = require('path')
const { execSync } = require('child_process')

const root = path.resolve(__dirname, '..')

function newestMtime(p) {
  const st = fs.statSync(p)
  if (!st.isDirectory()) return st.mtimeMs
  return Math.max(0, ...fs.readdirSync(p).map((f) => newestMtime(path.join(p, f))))
}

const binaries = fs.readdirSync(root).filter((f) => /^axisor-crypto\..*\.node$/.test(f))
const sources = ['src', 'Cargo.toml', 'Cargo.lock', 'build.rs'].map((p) => path.join(root, p))
const newestSource = Math.max(...sources.map(newestMtime))
const built = binaries.length > 0 && Math.min(...binaries.map((b) => fs.statSync(path.join(root, b)).mtimeMs)) >= newestSource

if (built && !process.argv.includes('--force')) {
  process.exit(0)
}
console.log('[ensure-built] building the native addon (release)…')
execSync('npx napi build --platform --release', { cwd: root, stdio: 'inherit' })
