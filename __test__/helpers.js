'use strict'
const fs = require('fs')
const path = require('path')

// $AXISOR_VECTORS_DIR, else ../shared/vectors beside the checkout (as in CI), else the workplace's copy
// (for a clone made elsewhere, e.g. in /tmp).
const VECTORS_DIR =
  process.env.AXISOR_VECTORS_DIR ||
  [path.resolve(__dirname, '..', '..', 'shared', 'vectors'), '/work/shared/vectors'].find((d) => fs.existsSync(d)) ||
  path.resolve(__dirname, '..', '..', 'shared', 'vectors')

function loadVectors(file) {
  return require(path.join(VECTORS_DIR, file))
}

/** Run `fn`, returning `{ ok: value }` or `{ error }` (so sync and async results compare alike). */
async function outcome(fn) {
  try {
    return { ok: await fn() }
  } catch (error) {
    return { error }
  }
}

module.exports = { VECTORS_DIR, loadVectors, outcome }
