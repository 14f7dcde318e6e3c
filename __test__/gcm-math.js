'use strict'
// GCM arithmetic for the file tests: with a 16-byte IV, GCM's first counter block is
// J0 = GHASH_H(IV ‖ 0^64 ‖ [128]_64) = ((IV·H) ⊕ L)·H, so an IV that puts the 32-bit counter
// wrap at any chosen block is IV = ((J0·H⁻¹) ⊕ L)·H⁻¹. GF(2^128) in GCM's bit order
// (NIST SP 800-38D, algorithm 1), blocks as big-endian BigInts. Checked against the J0 that
// Wycheproof's 128-bit-IV group prints for each case.
const crypto = require('crypto')

const R = 0xe1n << 120n
const ONE = 1n << 127n // the polynomial 1: bit 0 of the block is its most significant bit
const L = 128n // 0^64 ‖ [128]_64: the IV is 128 bits long

const toBig = (buf) => BigInt(`0x${Buffer.from(buf).toString('hex') || '0'}`)
const toBuf = (x) => Buffer.from(x.toString(16).padStart(32, '0'), 'hex')

function mul(x, y) {
  let z = 0n
  let v = y
  for (let i = 127n; i >= 0n; i--) {
    if ((x >> i) & 1n) z ^= v
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n
  }
  return z
}

function pow(x, e) {
  let r = ONE
  let b = x
  while (e > 0n) {
    if (e & 1n) r = mul(r, b)
    b = mul(b, b)
    e >>= 1n
  }
  return r
}

const inv = (x) => pow(x, (1n << 128n) - 2n)

function aesBlock(key, block) {
  const c = crypto.createCipheriv('aes-256-ecb', key, null)
  c.setAutoPadding(false)
  return Buffer.concat([c.update(block), c.final()])
}

/** H = E_K(0^128) */
const hashKey = (key) => toBig(aesBlock(key, Buffer.alloc(16)))

/** J0 for a 16-byte IV. */
function j0For(key, iv) {
  const h = hashKey(key)
  return toBuf(mul((mul(toBig(iv), h) ^ L), h))
}

/** The 16-byte IV whose J0 is `j0`. */
function ivForJ0(key, j0) {
  const hInv = inv(hashKey(key))
  return toBuf(mul(mul(toBig(j0), hInv) ^ L, hInv))
}

/**
 * An IV under which data block `wrapBlock` (0-based) is encrypted with counter value 0, i.e.
 * the 32-bit counter wraps from 0xffffffff to 0 exactly there (block i uses inc32^(i+1)(J0)).
 */
function ivWrappingAt(key, wrapBlock, upper96 = crypto.randomBytes(12)) {
  const low = (2 ** 32 - 1 - wrapBlock) >>> 0
  const j0 = Buffer.concat([upper96, Buffer.alloc(4)])
  j0.writeUInt32BE(low, 12)
  return { iv: ivForJ0(key, j0), j0 }
}

module.exports = { mul, inv, ONE, toBig, toBuf, aesBlock, hashKey, j0For, ivForJ0, ivWrappingAt }
