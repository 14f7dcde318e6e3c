'use strict'
// Memoizes Node's scrypt for the legacy port, where only speed matters: the legacy code derives
// a key on every call (~50 ms), which would make thousands of side-by-side checks take hours.
// scrypt is a pure function, so the port gives the very same bytes and the very same errors;
// only the time changes. Install it BEFORE requiring legacy.js (which captures crypto.scrypt).
// Never used where the legacy code is timed.
const crypto = require('crypto')

function install() {
  if (crypto.scryptSync.__memoized) return
  const realScryptSync = crypto.scryptSync
  const memo = new Map()
  const memoKey = (password, salt, keylen) => {
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
  scryptSyncMemo.__memoized = true
  crypto.scryptSync = scryptSyncMemo
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

module.exports = { install }
