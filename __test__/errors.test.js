'use strict'
// Bad input never crashes: every malformed input gives an Error with a stable code (a TypeError
// for argument types), sync and async alike, and no message carries a key, password or plaintext.
const addon = require('..')
const { outcome } = require('./helpers')

const PASSWORD = 'errors-test-password-Zq9'
const HEX_KEY = 'a3f1c0de9b7e4d2a8c6b5e4f3a2d1c0b9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b'
const SECRET = 'plaintext-that-must-not-leak-7f3a'
const isError = (e) => Object.prototype.toString.call(e) === '[object Error]'
const isTypeError = (e) => isError(e) && e.name === 'TypeError'

const notStrings = [undefined, null, 1, 0n, true, {}, [], () => 1, Symbol('s'), Buffer.from('ab')]

function expectCode(result, code) {
  expect(result.ok).toBeUndefined()
  expect(isError(result.error)).toBe(true)
  expect(result.error.code).toBe(code)
  const text = `${result.error.message} ${result.error.cause ? result.error.cause.message : ''}`
  for (const secret of [PASSWORD, HEX_KEY, SECRET]) expect(text.includes(secret)).toBe(false)
}

describe.each(['sync', 'async'])('%s', (mode) => {
  const call = (name, ...args) => outcome(() => addon[mode === 'async' ? `${name}Async` : name](...args))
  const enc = addon.encryptData(SECRET, PASSWORD)
  const secure = addon.encryptSecure(SECRET, HEX_KEY)

  test.each(notStrings.map((v) => [typeof v === 'symbol' ? 'symbol' : Object.prototype.toString.call(v), v]))(
    'a %s where a string belongs is a TypeError',
    async (_, bad) => {
      for (const [name, args] of [
        ['encryptData', [bad, PASSWORD]],
        ['encryptData', [SECRET, bad]],
        ['decryptData', [bad, PASSWORD]],
        ['decryptData', [enc, bad]],
        ['encryptSecure', [bad, HEX_KEY]],
        ['encryptSecure', [SECRET, bad]],
        ['decryptSecure', [bad, HEX_KEY]],
        ['decryptSecure', [secure, bad]],
        ['decryptCredentials', [bad, HEX_KEY]],
        ['encodeCredentialMap', [{ a: 'b' }, bad]],
        ['decodeCredentialMap', [{ a: enc }, bad]],
      ]) {
        const r = await call(name, ...args)
        expectCode(r, 'ERR_INVALID_ARG_TYPE')
        expect(isTypeError(r.error)).toBe(true)
      }
    },
  )

  test('missing arguments are TypeErrors', async () => {
    for (const name of ['encryptData', 'decryptData', 'encryptSecure', 'decryptSecure', 'encryptCredentials', 'decryptCredentials']) {
      expectCode(await call(name), 'ERR_INVALID_ARG_TYPE')
    }
  })

  test('options of the wrong shape', async () => {
    expectCode(await call('encryptData', SECRET, PASSWORD, 'x'), 'ERR_INVALID_ARG_TYPE')
    expectCode(await call('encryptData', SECRET, PASSWORD, { iv: 'not a buffer' }), 'ERR_INVALID_ARG_TYPE')
    expectCode(await call('encryptData', SECRET, PASSWORD, { iv: Buffer.alloc(15) }), 'ERR_INVALID_IV')
    expectCode(await call('encryptSecure', SECRET, HEX_KEY, { allowWeakKey: 'yes' }), 'ERR_INVALID_ARG_TYPE')
    expectCode(await call('decodeCredentialMap', { a: enc }, PASSWORD, { strict: 1 }), 'ERR_INVALID_ARG_TYPE')
    // undefined and null options are no options
    expect((await call('encryptData', SECRET, PASSWORD, undefined)).ok).toMatch(/^[0-9a-f]{32}:/)
    expect((await call('encryptData', SECRET, PASSWORD, null)).ok).toMatch(/^[0-9a-f]{32}:/)
  })

  test('malformed encrypted strings', async () => {
    const [iv, ct] = enc.split(':')
    for (const s of ['', ':', 'a', `${iv}:`, `:${ct}`, `${iv}:${ct}:${ct}`, `${iv}${ct}`]) {
      expectCode(await call('decryptData', s, PASSWORD), 'ERR_INVALID_FORMAT')
    }
    expectCode(await call('decryptData', `${iv}00:${ct}`, PASSWORD), 'ERR_INVALID_IV')
    expectCode(await call('decryptData', `zz:${ct}`, PASSWORD), 'ERR_INVALID_IV')
    expectCode(await call('decryptData', `${iv}:${ct}0`, PASSWORD), 'ERR_INVALID_FORMAT')
    expectCode(await call('decryptData', `${iv}:${ct.slice(0, 30)}`, PASSWORD), 'ERR_BAD_DECRYPT')
    expectCode(await call('decryptData', enc, `${PASSWORD}-wrong`), 'ERR_BAD_DECRYPT')
    const [siv, tag, sct] = secure.split(':')
    expectCode(await call('decryptSecure', `${siv}:${tag}`, HEX_KEY), 'ERR_INVALID_FORMAT')
    expectCode(await call('decryptSecure', `${siv}:${tag.slice(0, 24)}:${sct}`, HEX_KEY), 'ERR_INVALID_AUTH_TAG')
    expectCode(await call('decryptSecure', `${siv}:${tag}00:${sct}`, HEX_KEY), 'ERR_INVALID_AUTH_TAG')
    expectCode(await call('decryptSecure', `${siv.slice(0, 24)}:${tag}:${sct}`, HEX_KEY), 'ERR_INVALID_IV')
    expectCode(await call('decryptSecure', `${siv}:${tag}:${sct}0`, HEX_KEY), 'ERR_INVALID_FORMAT')
    expectCode(await call('decryptSecure', `${siv}:${tag}:${sct.slice(2)}`, HEX_KEY), 'ERR_AUTH_FAILED')
    expectCode(await call('decryptSecure', secure, HEX_KEY.replace('a', 'b')), 'ERR_AUTH_FAILED')
  })

  test('legacy messages for the credential services, with the code and cause', async () => {
    const r = await call('decryptCredentials', 'x:y', HEX_KEY)
    expectCode(r, 'ERR_INVALID_FORMAT')
    expect(r.error.message).toBe('Failed to decrypt credentials')
    expect(r.error.cause.message).toBe('Invalid encrypted data format')
    // Valid ciphertext of something that is not JSON: the SyntaxError (which quotes the input) is dropped.
    const notJson = await call('decryptCredentials', secure, HEX_KEY)
    expectCode(notJson, 'ERR_INVALID_FORMAT')
    expect(notJson.error.message).toBe('Failed to decrypt credentials')
    const cyclic = {}
    cyclic.self = cyclic
    for (const bad of [cyclic, { n: 1n }]) {
      const e = await call('encryptCredentials', bad, HEX_KEY)
      expectCode(e, 'ERR_INVALID_ARG_VALUE')
      expect(e.error.message).toBe('Failed to encrypt credentials')
    }
    for (const bad of [undefined, () => 1, Symbol('x')]) {
      expectCode(await call('encryptCredentials', bad, HEX_KEY), 'ERR_INVALID_ARG_TYPE')
    }
    const throwing = { toJSON() { throw new Error(SECRET) } }
    expectCode(await call('encryptCredentials', throwing, HEX_KEY), 'ERR_INVALID_ARG_VALUE')
  })

  test('weak secure-storage keys', async () => {
    for (const k of ['', 'not-hex-at-all', 'abcd', '00112233445566778899aabbccddee']) {
      const r = await call('encryptSecure', SECRET, k)
      expectCode(r, 'ERR_WEAK_KEY')
      expect(typeof (await call('encryptSecure', SECRET, k, { allowWeakKey: true })).ok).toBe('string')
    }
  })

  test('strict credential-map decoding names the fields, never the values', async () => {
    const map = { apiKey: enc, apiSecret: `${enc.split(':')[0]}:00`, n: 5, isTestnet: true }
    const lax = await call('decodeCredentialMap', map, PASSWORD)
    expect(lax.ok).toEqual({ apiKey: SECRET, apiSecret: '', n: '', isTestnet: '' })
    const r = await call('decodeCredentialMap', map, PASSWORD, { strict: true })
    expectCode(r, 'ERR_BAD_DECRYPT')
    // Every failing field, in the map's order (whether it failed to decrypt or is not a string).
    expect(r.error.fields).toEqual(['apiSecret', 'n'])
    const ok = await call('decodeCredentialMap', { apiKey: enc, isTestnet: true }, PASSWORD, { strict: true })
    expect(ok.ok).toEqual({ apiKey: SECRET, isTestnet: true })
    const r2 = await call('decodeCredentialMap', { apiKey: enc, bad: `${enc.split(':')[0]}:00` }, PASSWORD, { strict: true })
    expectCode(r2, 'ERR_BAD_DECRYPT')
    expect(r2.error.fields).toEqual(['bad'])
    expect(r2.error.message).toContain('bad')
    expectCode(await call('decodeCredentialMap', null, PASSWORD, { strict: true }), 'ERR_INVALID_ARG_TYPE')
    expect((await call('decodeCredentialMap', null, PASSWORD)).ok).toEqual({})
  })

  test('a map with a throwing getter or a Proxy', async () => {
    const getter = Object.defineProperty({}, 'apiKey', { enumerable: true, get() { throw new Error(SECRET) } })
    const r = await call('encodeCredentialMap', getter, PASSWORD)
    expect(isError(r.error)).toBe(true)
    const proxy = new Proxy({ apiKey: 'v' }, { ownKeys() { throw new Error('trap') } })
    expect(isError((await call('decodeCredentialMap', proxy, PASSWORD)).error)).toBe(true)
  })
})

test('the addon still works after all of that', () => {
  expect(addon.decryptData(addon.encryptData(SECRET, PASSWORD), PASSWORD)).toBe(SECRET)
})

describe('hostile callers (regressions from the hostile-input review)', () => {
  const enc = addon.encryptData(SECRET, PASSWORD)

  test('a throwing getter or Proxy trap: the sync export throws a coded Error, the async one rejects', async () => {
    const throwingOptions = { get iv() { throw 42 } }
    const throwingMap = Object.defineProperty({}, 'apiKey', { enumerable: true, get() { throw Symbol('x') } })
    const revoked = Proxy.revocable({}, {})
    revoked.revoke()
    const cases = [
      ['encryptData', [SECRET, PASSWORD, throwingOptions]],
      ['encryptSecure', [SECRET, HEX_KEY, { get allowWeakKey() { throw null } }]],
      ['encodeCredentialMap', [throwingMap, PASSWORD]],
      ['decodeCredentialMap', [throwingMap, PASSWORD]],
      ['decodeCredentialMap', [revoked.proxy, PASSWORD]],
      ['encryptCredentials', [{ toJSON() { throw new Error(SECRET) } }, HEX_KEY]],
    ]
    for (const [name, args] of cases) {
      let promise
      expect(() => { promise = addon[`${name}Async`](...args) }).not.toThrow()
      const r = await outcome(() => promise)
      expect(isError(r.error)).toBe(true)
      expect(typeof r.error.code).toBe('string')
      expect(String(r.error.message).includes(SECRET)).toBe(false)
      const s = await outcome(() => addon[name](...args))
      expect(s.error.code).toBe(r.error.code)
    }
  })

  test('options are read from own properties only (a polluted prototype fixes no IV)', () => {
    Object.prototype.iv = Buffer.alloc(16)
    Object.prototype.allowWeakKey = true
    try {
      expect(addon.encryptData(SECRET, PASSWORD, {})).not.toBe(addon.encryptData(SECRET, PASSWORD, {}))
      expect(() => addon.encryptSecure(SECRET, 'not-hex', {})).toThrow(expect.objectContaining({ code: 'ERR_WEAK_KEY' }))
    } finally {
      delete Object.prototype.iv
      delete Object.prototype.allowWeakKey
    }
  })

  test('encodeCredentialMap iterates a primitive as Object.entries does', () => {
    expect(Object.keys(addon.encodeCredentialMap('ab', PASSWORD))).toEqual(['0', '1'])
    expect(addon.encodeCredentialMap(42, PASSWORD)).toEqual({})
    expect(() => addon.encodeCredentialMap(null, PASSWORD)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }))
  })

  test('strict decoding never decrypts isTestnet/testnet', () => {
    expect(addon.decodeCredentialMap({ apiKey: enc, isTestnet: 'a:b' }, PASSWORD, { strict: true })).toEqual({
      apiKey: SECRET,
      isTestnet: 'a:b',
    })
  })

  test('a missing global JSON gives a coded error, and the Promise settles', () => {
    // In a child process: jest's sandbox has its own globals, the addon sees Node's.
    const script = `
      const a = require(${JSON.stringify(require('path').resolve(__dirname, '..'))})
      const key = ${JSON.stringify(HEX_KEY)}
      const secure = a.encryptCredentials({ a: 1 }, key)
      const saved = Object.getOwnPropertyDescriptor(globalThis, 'JSON')
      delete globalThis.JSON
      const out = []
      try { a.decryptCredentials(secure, key); out.push('no throw') } catch (e) { out.push(e.message + '|' + e.code) }
      process.on('uncaughtException', (e) => { out.push('uncaught'); })
      a.decryptCredentialsAsync(secure, key).then(() => out.push('resolved'), (e) => out.push('rejected|' + e.code)).then(() => {
        Object.defineProperty(globalThis, 'JSON', saved)
        out.push(JSON.stringify(a.decryptCredentials(secure, key)))
        process.stdout.write(out.join('\\n'))
      })
    `
    const out = require('child_process').execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 })
    expect(out.split('\n')).toEqual([
      'Failed to decrypt credentials|ERR_INVALID_ARG_VALUE',
      'rejected|ERR_INVALID_ARG_VALUE',
      '{"a":1}',
    ])
  })

  test('a result longer than the longest JS string is refused before any work', () => {
    const huge = '€'.repeat(89478486) // 268 MB of UTF-8: its hex would exceed V8's 2^29 - 24 limit
    expect(() => addon.encryptData(huge, PASSWORD)).toThrow(expect.objectContaining({ code: 'ERR_STRING_TOO_LONG' }))
  })

  test('an XChaCha ciphertext whose base64 would be longer than the longest JS string is refused', () => {
    // 402,653,154 bytes of UTF-8: with the tag, its base64 is 536,870,894 characters, 6 over the limit
    const huge = '€'.repeat(134217718)
    expect(() => addon.xchachaEncrypt(huge, 'ab'.repeat(32))).toThrow(expect.objectContaining({ code: 'ERR_STRING_TOO_LONG' }))
  })
})
