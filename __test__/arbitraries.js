'use strict'
// fast-check arbitraries for the property tests: strings as JavaScript really holds them (UTF-16
// code units, lone surrogates included), hex that Node's lenient decoder reads in surprising ways,
// and hostile variations of encrypted strings.
const fc = require('fast-check')

/** One UTF-16 code unit, weighted towards the interesting ranges. */
const codeUnit = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) }, // printable ASCII
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }) }, // controls, NUL
  { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0x7ff }) }, // 2-byte UTF-8
  { weight: 2, arbitrary: fc.integer({ min: 0x800, max: 0xd7ff }) }, // 3-byte UTF-8
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }) }, // surrogates, often lone
  { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xffff }) }, // incl. U+FEFF, U+FFFD
  { weight: 1, arbitrary: fc.constantFrom(0x3a, 0x20, 0x09, 0x0a, 0xa0, 0x3000, 0xfeff, 0x0130, 0x0161) },
)

/** A string of arbitrary code units: lone surrogates, unpaired halves, NULs, `:` and all. */
const jsString = (maxLength = 64) =>
  fc.array(codeUnit, { maxLength }).map((units) => String.fromCharCode(...units))

/** Well-formed text from full code points (emoji, CJK, ...), for JSON values. */
const text = (maxLength = 32) =>
  fc.oneof(jsString(maxLength), fc.string({ unit: 'grapheme', maxLength }), fc.string({ maxLength }))

const hexDigitsLower = '0123456789abcdef'

/** Hex as Node might see it: random case, sometimes junk or an odd length. */
const hexish = (maxBytes = 40) =>
  fc
    .tuple(fc.uint8Array({ maxLength: maxBytes }), fc.boolean(), fc.option(jsString(3), { nil: '' }), fc.boolean())
    .map(([bytes, upper, junk, odd]) => {
      let h = Buffer.from(bytes).toString('hex')
      if (upper) h = h.toUpperCase()
      if (odd) h += hexDigitsLower[bytes.length % 16]
      return h + junk
    })

/** A random 64-char hex key, or a key with the shapes people really put in env vars. */
const secureKey = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 48 }).map((b) => Buffer.from(b).toString('hex').toUpperCase()) },
  { weight: 1, arbitrary: hexish(40) },
)

/**
 * Hostile variants of a valid encrypted string: a character flipped, parts cut, case changed,
 * junk or white space added, parts swapped or duplicated.
 */
function mutate(valid) {
  return fc
    .tuple(fc.nat(), fc.integer({ min: 0, max: 9 }), jsString(4), fc.nat())
    .map(([pos, kind, junk, n]) => {
      const s = valid
      const p = s.length === 0 ? 0 : pos % s.length
      switch (kind) {
        case 0: // flip one hex digit
          return s.slice(0, p) + (s[p] === '0' ? '1' : '0') + s.slice(p + 1)
        case 1:
          return s.slice(0, p)
        case 2:
          return s.toUpperCase()
        case 3:
          return s + junk
        case 4:
          return junk + s
        case 5:
          return s.slice(0, p) + junk + s.slice(p)
        case 6:
          return s.split(':').reverse().join(':')
        case 7:
          return s + ':' + s.split(':')[0]
        case 8:
          return s.split(':').map((part, i) => (i === n % 3 ? part.slice(0, part.length - (n % 7)) : part)).join(':')
        default:
          return s.replace(':', '')
      }
    })
}

module.exports = { jsString, text, hexish, secureKey, mutate, codeUnit }
