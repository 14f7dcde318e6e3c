'use strict'
// Property tests: the addon and the legacy port (on Node's own crypto) side by side on thousands
// of random inputs, both directions: old data read by the addon, new data read by the old code,
// and identical bytes for identical IVs. Hostile variations must fail (or succeed) exactly where
// Node does, apart from the documented deviations.
const crypto = require('crypto')
const fc = require('fast-check')
const legacy = require('./legacy-port')
const addon = require('..')
const { jsString, text, hexish, secureKey, mutate } = require('./arbitraries')
const { outcome } = require('./helpers')

const RUNS = Number(process.env.PROPERTY_RUNS || 1000)
fc.configureGlobal({ numRuns: RUNS, interruptAfterTimeLimit: 10 * 60 * 1000 })

/** What Node's utf8 round trip makes of a string (a lone surrogate becomes U+FFFD). */
const nodeText = (s) => Buffer.from(s, 'utf8').toString('utf8')

// A pool of passwords and secure keys: every new one costs a scrypt on both sides.
const passwords = ['k', '', 'clé-🔑-secret', '\ud800lone', 'pässwörd\u0000nul', ...fc.sample(jsString(24), 7)]
const secureKeys = ['a3f1c0de9b7e4d2a8c6b5e4f3a2d1c0b9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b', ...fc.sample(secureKey, 7)]
const strongSecureKeys = secureKeys.filter((k) => Buffer.from(k, 'hex').length >= 16)

const auth = new Map(passwords.map((p) => [p, legacy.createAuthService({ encryptionKey: p })]))
const storage = new Map(secureKeys.map((k) => [k, legacy.createSecureStorageService({ encryptionKey: k })]))
const maps = new Map(passwords.map((p) => [p, legacy.createUserExchangeAccountService({ encryptionKey: p })]))

const password = fc.constantFrom(...passwords)
const iv16 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b))

/** Errors made by the addon come from Node's main realm, not jest's sandbox: no instanceof. */
const isError = (e) => Object.prototype.toString.call(e) === '[object Error]'

/** Both outcomes equal: the same value, or both threw. */
function sameOutcome(ours, theirs) {
  if ('error' in theirs) {
    expect(isError(ours.error)).toBe(true)
    expect(typeof ours.error.code).toBe('string')
  } else {
    expect(ours).toEqual(theirs)
  }
}

/** Errors never carry the password or the plaintext. */
function noSecretsIn(error, ...secrets) {
  if (!error) return
  const text = `${error.message} ${error.cause ? error.cause.message : ''} ${error.stack}`
  for (const s of secrets) if (s && s.length >= 6) expect(text.includes(s)).toBe(false)
}

describe('AuthService CBC strings', () => {
  test('old data decrypts; new data is read by the old code; same IV gives the same bytes', () => {
    fc.assert(
      fc.property(jsString(200), password, iv16, (s, pw, iv) => {
        const old = auth.get(pw)
        expect(addon.decryptData(old.encryptData(s), pw)).toBe(nodeText(s))
        expect(old.decryptData(addon.encryptData(s, pw))).toBe(nodeText(s))
        const fixed = legacy.createAuthService({ encryptionKey: pw, randomBytes: () => Buffer.from(iv) })
        expect(addon.encryptData(s, pw, { iv })).toBe(fixed.encryptData(s))
      }),
    )
  })

  test('hostile variations fail or succeed exactly as in Node', () => {
    const valid = fc.tuple(jsString(40), password).map(([s, pw]) => addon.encryptData(s, pw))
    const hostile = fc.oneof(
      valid.chain(mutate),
      fc.tuple(hexish(20), hexish(64)).map(([a, b]) => `${a}:${b}`),
      jsString(40),
    )
    fc.assert(
      fc.property(hostile, password, (input, pw) => {
        const theirs = (() => {
          try {
            return { ok: auth.get(pw).decryptData(input) }
          } catch (error) {
            return { error }
          }
        })()
        let ours
        try {
          ours = { ok: addon.decryptData(input, pw) }
        } catch (error) {
          ours = { error }
          noSecretsIn(error, pw)
        }
        sameOutcome(ours, theirs)
      }),
    )
  })

  test('a wrong key: garbage or an error, as Node gives it', () => {
    fc.assert(
      fc.property(jsString(20), password, password, (s, pw, wrong) => {
        const enc = addon.encryptData(s, pw)
        let theirs
        try {
          theirs = { ok: auth.get(wrong).decryptData(enc) }
        } catch (error) {
          theirs = { error }
        }
        let ours
        try {
          ours = { ok: addon.decryptData(enc, wrong) }
        } catch (error) {
          ours = { error }
        }
        sameOutcome(ours, theirs)
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    )
  })
})

describe('SecureStorageService GCM strings', () => {
  const key = fc.constantFrom(...secureKeys)
  const strongKey = fc.constantFrom(...strongSecureKeys)

  test('old data decrypts; new data is read by the old code; same IV gives the same bytes', async () => {
    await fc.assert(
      fc.asyncProperty(jsString(200), key, iv16, async (s, k, iv) => {
        const old = storage.get(k)
        expect(addon.decryptSecure(await old.encryptSecureString(s), k)).toBe(nodeText(s))
        expect(await old.decryptSecureString(addon.encryptSecure(s, k, { allowWeakKey: true }))).toBe(nodeText(s))
        const fixed = legacy.createSecureStorageService({ encryptionKey: k, randomBytes: () => Buffer.from(iv) })
        expect(addon.encryptSecure(s, k, { iv, allowWeakKey: true })).toBe(await fixed.encryptSecureString(s))
      }),
    )
  })

  test('weak keys are refused for encryption only', () => {
    fc.assert(
      fc.property(jsString(12), hexish(15), (s, k) => {
        fc.pre(Buffer.from(k, 'hex').length < 16)
        expect(() => addon.encryptSecure(s, k)).toThrow(expect.objectContaining({ code: 'ERR_WEAK_KEY' }))
        const enc = addon.encryptSecure(s, k, { allowWeakKey: true })
        expect(addon.decryptSecure(enc, k)).toBe(nodeText(s))
      }),
      { numRuns: 50 },
    )
  })

  test('hostile variations fail or succeed exactly as in Node (tags and IVs must be 16 bytes)', async () => {
    const valid = fc.tuple(jsString(40), strongKey).map(([s, k]) => addon.encryptSecure(s, k))
    const hostile = fc.oneof(
      valid.chain(mutate),
      fc.tuple(hexish(20), hexish(20), hexish(40)).map((p) => p.join(':')),
      jsString(40),
    )
    await fc.assert(
      fc.asyncProperty(hostile, strongKey, async (input, k) => {
        const theirs = await outcome(() => storage.get(k).decryptSecureString(input))
        const ours = await outcome(() => addon.decryptSecure(input, k))
        if ('error' in ours) noSecretsIn(ours.error, k)
        if ('ok' in theirs) {
          const [iv, tag] = input.split(':').map((p) => Buffer.from(p, 'hex'))
          if (iv.length !== 16 || tag.length !== 16) {
            // Deviation: Node accepted these; we never release data under a short tag or odd IV.
            expect(isError(ours.error)).toBe(true)
            return
          }
        }
        sameOutcome(ours, theirs)
      }),
    )
  })
})

describe('credentials as JSON (V8 JSON semantics)', () => {
  const value = fc.oneof(text(40), fc.integer(), fc.double(), fc.boolean(), fc.constant(null))
  const credentials = fc.oneof(
    fc.record({ apiKey: text(40), apiSecret: text(64), passphrase: text(20) }),
    fc.dictionary(text(8), value, { maxKeys: 8 }),
    fc.array(value, { maxLength: 5 }),
  )

  test('both directions, deep-equal to what the legacy code gives', async () => {
    const k = secureKeys[0]
    const old = storage.get(k)
    await fc.assert(
      fc.asyncProperty(credentials, async (c) => {
        const fromOld = await old.encryptCredentials(c)
        const fromNew = addon.encryptCredentials(c, k)
        expect(addon.decryptCredentials(fromOld, k)).toEqual(await old.decryptCredentials(fromOld))
        expect(await old.decryptCredentials(fromNew)).toEqual(addon.decryptCredentials(fromNew, k))
        expect(JSON.stringify(addon.decryptCredentials(fromNew, k))).toBe(JSON.stringify(c))
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    )
  })
})

describe('credential maps', () => {
  const fieldName = fc.oneof(
    fc.constantFrom('apiKey', 'apiSecret', 'passphrase', 'isTestnet', 'testnet', '0', '7', 'constructor', 'a:b'),
    text(6),
  )

  test('decode: identical to the legacy decryptCredentials on mixed, hostile maps', () => {
    fc.assert(
      fc.property(
        password,
        fc.array(
          fc.tuple(
            fieldName,
            fc.oneof(
              jsString(30).map((s) => ({ enc: s })), // encrypted by the legacy encoder below
              fc.tuple(hexish(16), hexish(40)).map(([a, b]) => `${a}:${b}`),
              jsString(20),
              fc.constantFrom('', 'true', 'false', ':', 'x:', ':x', 'a:b:c'),
              fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constant({ a: 1 })),
            ),
          ),
          { maxLength: 8 },
        ),
        password,
        (pw, entries, maybeWrong) => {
          const old = maps.get(pw)
          const map = {}
          for (const [k, v] of entries) {
            map[k] = v && typeof v === 'object' && 'enc' in v ? auth.get(pw).encryptData(v.enc) : v
          }
          const usePw = entries.length % 3 === 0 ? maybeWrong : pw
          const theirs = maps.get(usePw).decryptCredentials(map)
          const ours = addon.decodeCredentialMap(map, usePw)
          expect(Object.keys(ours)).toEqual(Object.keys(theirs))
          expect(ours).toEqual(theirs)
          void old
        },
      ),
    )
  })

  test('decode: own "__proto__" keys and non-objects behave as in the legacy code', () => {
    const pw = 'k'
    const old = maps.get(pw)
    const hostile = [JSON.parse('{"__proto__":"x","a":"b"}'), null, undefined, 'str', 42, ['a', 'b:c']]
    for (const m of hostile) {
      const ours = addon.decodeCredentialMap(m, pw)
      expect(ours).toEqual(old.decryptCredentials(m))
      expect(Object.keys(ours)).toEqual(Object.keys(old.decryptCredentials(m)))
    }
  })

  test('encode: same fields kept and left out, and the old decoder reads every value back', () => {
    const value = fc.oneof(
      { weight: 5, arbitrary: jsString(40) },
      { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t\n', '\u3000\ufeff', '\u0085', ' x ') },
      { weight: 1, arbitrary: fc.constantFrom(0, false, null, undefined, '', NaN) },
    )
    fc.assert(
      fc.property(password, fc.array(fc.tuple(fieldName, value), { maxLength: 8 }), (pw, entries) => {
        const input = {}
        for (const [k, v] of entries) input[k] = v
        const ours = addon.encodeCredentialMap(input, pw)
        const theirs = maps.get(pw).encodeCredentials(input)
        expect(Object.keys(ours)).toEqual(Object.keys(theirs))
        expect(maps.get(pw).decryptCredentials(ours)).toEqual(maps.get(pw).decryptCredentials(theirs))
        for (const k of Object.keys(ours)) {
          if (k === 'isTestnet' || k === 'testnet') expect(ours[k]).toBe(input[k])
          else expect(ours[k]).toMatch(/^[0-9a-f]{32}:([0-9a-f]{32})+$/)
        }
      }),
    )
  })

  test('encode: a truthy non-string value throws, as the legacy `value.trim()` did', () => {
    for (const v of [1, true, { a: 1 }, ['x'], 5n]) {
      expect(() => maps.get('k').encodeCredentials({ apiKey: v })).toThrow(TypeError)
      expect(() => addon.encodeCredentialMap({ apiKey: v }, 'k')).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
      )
    }
  })
})

describe('huge values (1 MiB) both directions', () => {
  const big = (unit) => unit.repeat((1 << 20) / unit.length)
  test.each([
    ['ascii', big('a')],
    ['mixed unicode with lone surrogates', big('é中🔐\ud800x:')],
  ])('%s', async (_, s) => {
    // Compared as booleans: a failure must not print megabytes.
    const pw = passwords[2]
    const want = nodeText(s)
    expect(addon.decryptData(auth.get(pw).encryptData(s), pw) === want).toBe(true)
    expect(auth.get(pw).decryptData(addon.encryptData(s, pw)) === want).toBe(true)
    const k = secureKeys[0]
    expect(addon.decryptSecure(await storage.get(k).encryptSecureString(s), k) === want).toBe(true)
    expect((await storage.get(k).decryptSecureString(addon.encryptSecure(s, k))) === want).toBe(true)
    // JSON escapes a lone surrogate (\ud800) and reads the code unit back: no U+FFFD here.
    const fromOld = await storage.get(k).encryptCredentials({ apiSecret: s })
    expect(addon.decryptCredentials(fromOld, k).apiSecret === s).toBe(true)
    const fromNew = addon.encryptCredentials({ apiSecret: s }, k)
    expect((await storage.get(k).decryptCredentials(fromNew)).apiSecret === s).toBe(true)
  })
})

describe('async twins give what the sync exports give', () => {
  test('random inputs', async () => {
    const k = secureKeys[0]
    await fc.assert(
      fc.asyncProperty(jsString(60), password, async (s, pw) => {
        expect(await addon.decryptDataAsync(await addon.encryptDataAsync(s, pw), pw)).toBe(nodeText(s))
        expect(await addon.decryptSecureAsync(await addon.encryptSecureAsync(s, k), k)).toBe(nodeText(s))
        const map = { apiKey: s, isTestnet: true }
        const enc = await addon.encodeCredentialMapAsync(map, pw)
        expect(await addon.decodeCredentialMapAsync(enc, pw)).toEqual(addon.decodeCredentialMap(enc, pw))
        const bad = `${s}:zz`
        const [a, b] = await Promise.all([outcome(() => addon.decryptDataAsync(bad, pw)), outcome(() => addon.decryptData(bad, pw))])
        expect(a.ok).toEqual(b.ok)
        expect(a.error && a.error.code).toEqual(b.error && b.error.code)
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    )
  })
})

void crypto
