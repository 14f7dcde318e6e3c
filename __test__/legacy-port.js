'use strict'
// Loads the legacy port (legacy/legacy.js) for side-by-side tests, with Node's scrypt memoized:
// the legacy code derives a key on every call (~50 ms), which would make thousands of random
// cases take hours. Memoizing returns the very same bytes, so the legacy behaviour under test
// (formats, hex and UTF-8 quirks, error paths) is unchanged. Must be required before legacy.js.
const crypto = require('crypto')

const realScryptSync = crypto.scryptSync
const memo = new Map()

function memoKey(password, salt, keylen) {
  const pw = typeof password === 'string' ? `s${password}` : `b${Buffer.from(password).toString('hex')}`
  return `${pw}\u0000${Buffer.from(salt).toString('hex')}\u0000${keylen}`
}

function scryptSyncMemo(password, salt, keylen, options) {
  if (options !== undefined || !(typeof password === 'string' || Buffer.isBuffer(password))) {
    return realScryptSync(password, salt, keylen, options) // throws exactly as Node does
  }
  const k = memoKey(password, salt, keylen)
  if (!memo.has(k)) memo.set(k, realScryptSync(password, salt, keylen))
  return Buffer.from(memo.get(k))
}

if (!crypto.scryptSync.__memoized) {
  crypto.scryptSync = scryptSyncMemo
  crypto.scryptSync.__memoized = true
  crypto.scrypt = (password, salt, keylen, options, cb) => {
    if (typeof options === 'function') [options, cb] = [undefined, options]
    let out
    try {
      out = scryptSyncMemo(password, salt, keylen, options)
    } catch (e) {
      return process.nextTick(cb, e)
    }
    process.nextTick(cb, null, out)
  }
}

module.exports = require('../legacy/legacy.js')
