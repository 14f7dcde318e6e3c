'use strict'
// Every `xchacha` and `argon2id` vector of ../shared/vectors/legacy-compat.json through the sync
// and the async exports, and the contract details around them: error codes, generateKey,
// AbortSignal.
const addon = require('..')
const { loadVectors } = require('./helpers')

const { vectors } = loadVectors('legacy-compat.json')
const ours = vectors.map((v, i) => [i, v]).filter(([, v]) => v.suite === 'xchacha' || v.suite === 'argon2id')
const label = (v, i) => `${i} ${v.suite}.${v.op}${v.name ? ` (${v.name})` : ''}`
const KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'

/** Errors made by the addon come from Node's main realm, not jest's sandbox: no instanceof. */
const isError = (e) => Object.prototype.toString.call(e) === '[object Error]'

/**
 * The nonce an encrypt vector was made with. The nonce is an output too (`expected.nonce`); one
 * vector (badMasterKey) records a `nonceHex` that is not the nonce of its expected output, so,
 * as legacy/verify-vectors.js does, the recorded output's nonce is the one injected.
 */
const defects = []
function vectorNonce(v) {
  const recorded = Buffer.from(v.expected.nonce, 'base64url')
  if (recorded.toString('hex') !== v.nonceHex.toLowerCase()) defects.push(v.name)
  return recorded
}

function run(v, mode) {
  const s = mode === 'async' ? 'Async' : ''
  switch (`${v.suite}.${v.op}`) {
    case 'xchacha.encrypt':
      return addon[`xchachaEncrypt${s}`](v.input, v.masterKeyHex, { nonce: vectorNonce(v) })
    case 'xchacha.decrypt':
      return addon[`xchachaDecrypt${s}`](v.input, v.masterKeyHex)
    case 'argon2id.deriveKeyFromPassword':
      return addon[`deriveKeyFromPassword${s}`](v.password, v.saltB64)
    default:
      throw new Error(`unhandled vector ${v.suite}.${v.op}`)
  }
}

test('the vector file has what this suite expects', () => {
  expect(ours.filter(([, v]) => v.suite === 'xchacha').length).toBeGreaterThanOrEqual(12)
  expect(ours.filter(([, v]) => v.suite === 'argon2id').length).toBe(4)
})

describe.each(['sync', 'async'])('%s', (mode) => {
  test.each(ours.map(([i, v]) => [label(v, i), v]))('%s', async (_, v) => {
    if (v.error !== undefined) {
      let caught
      try {
        await run(v, mode)
      } catch (e) {
        caught = e
      }
      expect(isError(caught)).toBe(true)
      expect(caught.code).toMatch(/^ERR_(INVALID_FORMAT|AUTH_FAILED|INVALID_SALT)$/)
      return
    }
    const got = await run(v, mode)
    expect(got).toEqual(v.expected)
    if (v.suite === 'xchacha' && v.op === 'encrypt') {
      // And back, through both exports.
      expect(addon.xchachaDecrypt(got, v.masterKeyHex)).toBe(v.input)
      expect(await addon.xchachaDecryptAsync(got, v.masterKeyHex)).toBe(v.input)
    }
  })
})

test('exactly the known vector defect (nonceHex vs expected.nonce) was met', () => {
  expect([...new Set(defects)]).toEqual(['badMasterKey'])
})

describe('error codes', () => {
  const sealed = addon.xchachaEncrypt('secret text', KEY)
  const code = (fn) => {
    try {
      fn()
    } catch (e) {
      expect(isError(e)).toBe(true)
      return `${e.name}:${e.code}`
    }
    return 'no error'
  }

  test('the legacy vectors name their failure', () => {
    const byName = (name) => vectors.find((v) => v.suite === 'xchacha' && v.name === name)
    expect(code(() => addon.xchachaDecrypt(byName('wrongNonce').input, KEY))).toBe('Error:ERR_AUTH_FAILED')
    expect(code(() => addon.xchachaDecrypt(byName('paddedNonce').input, KEY))).toBe('Error:ERR_INVALID_FORMAT')
    expect(code(() => addon.xchachaDecrypt(byName('emptyCiphertext').input, KEY))).toBe('Error:ERR_INVALID_FORMAT')
    const badSalt = vectors.find((v) => v.suite === 'argon2id' && v.error)
    expect(code(() => addon.deriveKeyFromPassword(badSalt.password, badSalt.saltB64))).toBe('Error:ERR_INVALID_SALT')
  })

  test('keys, salts, lengths, UTF-8', () => {
    expect(code(() => addon.xchachaEncrypt('x', KEY.slice(2)))).toBe('Error:ERR_INVALID_KEY')
    expect(code(() => addon.xchachaEncrypt('x', `${KEY}00`))).toBe('Error:ERR_INVALID_KEY')
    expect(code(() => addon.xchachaEncrypt('x', ''))).toBe('Error:ERR_INVALID_KEY')
    expect(code(() => addon.xchachaDecrypt(sealed, 'zz'))).toBe('Error:ERR_INVALID_KEY')
    // Lenient hex, as Buffer.from(key, 'hex'): trailing junk and an odd last digit are dropped.
    expect(addon.xchachaDecrypt(sealed, `${KEY}zz`)).toBe('secret text')
    expect(addon.xchachaDecrypt(sealed, `${KEY.toUpperCase()}7`)).toBe('secret text')
    expect(code(() => addon.xchachaDecrypt({ ...sealed, nonce: `${sealed.nonce}=` }, KEY))).toBe('Error:ERR_INVALID_FORMAT')
    expect(code(() => addon.xchachaDecrypt({ ...sealed, nonce: sealed.nonce.slice(4) }, KEY))).toBe('Error:ERR_INVALID_FORMAT')
    expect(code(() => addon.xchachaDecrypt({ ...sealed, ciphertext: sealed.ciphertext.slice(0, 20) }, KEY))).toBe('Error:ERR_INVALID_FORMAT')
    expect(code(() => addon.xchachaDecrypt({ ...sealed, ciphertext: sealed.ciphertext.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }, KEY))).toMatch(
      /^Error:ERR_(AUTH_FAILED|INVALID_FORMAT)$/,
    )
    const otherKey = KEY.replace(/^00/, '01')
    expect(code(() => addon.xchachaDecrypt(sealed, otherKey))).toBe('Error:ERR_AUTH_FAILED')
    expect(code(() => addon.deriveKeyFromPassword('pw', 'AAAAAAAAAAAAAAAAAAAAAA=='))).toBe('Error:ERR_INVALID_SALT')
    expect(code(() => addon.deriveKeyFromPassword('pw', 'AAAAAAAAAAAAAAAAAAAAAB'))).toBe('Error:ERR_INVALID_SALT')
    // Invalid UTF-8 plaintext (libsodium-wrappers' to_string throws): an error, never U+FFFD.
    const sodium = require('libsodium-wrappers-sumo')
    return sodium.ready.then(() => {
      const nonce = new Uint8Array(24).fill(3)
      const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(Uint8Array.of(0xff, 0x41), null, null, nonce, Buffer.from(KEY, 'hex'))
      const bad = { ciphertext: sodium.to_base64(ct), nonce: sodium.to_base64(nonce) }
      expect(code(() => addon.xchachaDecrypt(bad, KEY))).toBe('Error:ERR_INVALID_FORMAT')
    })
  })

  test('argument types are TypeErrors', () => {
    expect(code(() => addon.xchachaEncrypt(42, KEY))).toBe('TypeError:ERR_INVALID_ARG_TYPE')
    expect(code(() => addon.xchachaEncrypt('x', undefined))).toBe('TypeError:ERR_INVALID_ARG_TYPE')
    expect(code(() => addon.xchachaDecrypt('str', KEY))).toBe('TypeError:ERR_INVALID_ARG_TYPE')
    expect(code(() => addon.xchachaDecrypt({ ciphertext: sealed.ciphertext }, KEY))).toBe('TypeError:ERR_INVALID_ARG_TYPE')
    expect(code(() => addon.xchachaEncrypt('x', KEY, { nonce: new Uint8Array(12) }))).toBe('Error:ERR_INVALID_ARG_VALUE')
    expect(code(() => addon.deriveKeyFromPassword(null, 'AAAAAAAAAAAAAAAAAAAAAA'))).toBe('TypeError:ERR_INVALID_ARG_TYPE')
    expect(code(() => addon.deriveKeyFromPassword('pw', Buffer.alloc(16)))).toBe('TypeError:ERR_INVALID_ARG_TYPE')
  })

  test('async twins reject with the same codes', async () => {
    await expect(addon.xchachaDecryptAsync(sealed, KEY.slice(2))).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
    await expect(addon.xchachaDecryptAsync({ ...sealed, nonce: 'AAAA' }, KEY)).rejects.toMatchObject({ code: 'ERR_INVALID_FORMAT' })
    await expect(addon.xchachaEncryptAsync('x', 'abc')).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
    await expect(addon.deriveKeyFromPasswordAsync('pw', 'AAAA')).rejects.toMatchObject({ code: 'ERR_INVALID_SALT' })
  })

  test('messages carry neither keys, passwords nor plaintexts', () => {
    const secrets = [KEY, 'hunter2-password', 'secret text']
    const errors = []
    for (const fn of [
      () => addon.xchachaDecrypt(sealed, KEY.replace(/^00/, '01')),
      () => addon.xchachaDecrypt({ ...sealed, nonce: 'hunter2-password' }, KEY),
      () => addon.xchachaEncrypt('secret text', `${KEY.slice(4)}`),
      () => addon.deriveKeyFromPassword('hunter2-password', 'hunter2-password'),
    ]) {
      try {
        fn()
      } catch (e) {
        errors.push(`${e.message} ${e.stack}`)
      }
    }
    expect(errors.length).toBe(4)
    for (const text of errors) for (const s of secrets) expect(text.includes(s)).toBe(false)
  })
})

describe('generateKey', () => {
  test('32 random bytes as libsodium base64', async () => {
    const sodium = require('libsodium-wrappers-sumo')
    await sodium.ready
    const keys = new Set()
    for (let i = 0; i < 200; i++) {
      const k = addon.generateKey()
      expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(sodium.from_base64(k).length).toBe(32)
      keys.add(k)
    }
    expect(keys.size).toBe(200)
  })
})

describe('deriveKeyFromPasswordAsync with an AbortSignal', () => {
  const salt = 'AAAAAAAAAAAAAAAAAAAAAA'

  test('an already aborted signal rejects without deriving', async () => {
    const ac = new AbortController()
    ac.abort()
    await expect(addon.deriveKeyFromPasswordAsync('pw', salt, { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORT_ERR' })
  })

  test('aborting while queued or running rejects', async () => {
    const ac = new AbortController()
    // More derivations than the libuv pool has threads: some are still queued at the abort.
    const all = Array.from({ length: 6 }, () => addon.deriveKeyFromPasswordAsync('pw', salt, { signal: ac.signal }))
    setTimeout(() => ac.abort(), 5)
    const results = await Promise.allSettled(all)
    for (const r of results) {
      expect(r.status).toBe('rejected')
      expect(r.reason.code).toBe('ABORT_ERR')
    }
  })

  test('a signal that never fires changes nothing; bad signals are TypeErrors', async () => {
    const ac = new AbortController()
    const expected = addon.deriveKeyFromPassword('pw', salt)
    expect(await addon.deriveKeyFromPasswordAsync('pw', salt, { signal: ac.signal })).toBe(expected)
    expect(await addon.deriveKeyFromPasswordAsync('pw', salt, {})).toBe(expected)
    expect(await addon.deriveKeyFromPasswordAsync('pw', salt, { signal: undefined })).toBe(expected)
    await expect(addon.deriveKeyFromPasswordAsync('pw', salt, { signal: {} })).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
    await expect(addon.deriveKeyFromPasswordAsync('pw', salt, { signal: 'x' })).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
    await expect(addon.deriveKeyFromPasswordAsync('pw', salt, 7)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  })
})
