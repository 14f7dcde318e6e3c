'use strict'
const path = require('path')

const VECTORS_DIR = path.resolve(__dirname, '..', '..', 'shared', 'vectors')

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
