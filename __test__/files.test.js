'use strict'
// File encryption (issue 4): the seed's FileEncryptionService format, file = iv(16) ‖ tag(16) ‖ ct,
// AES-256-GCM with the 16-byte IV, key = scrypt(utf8(password), "salt", 32).
//   - every `file` vector of legacy-compat.json (files and buffers, sync and async),
//   - the streaming path against the one-shot buffer path and against Node's crypto with the
//     same derived key, at and around the 1 MiB chunk boundaries and at the 32-bit counter wrap,
//   - side by side with the legacy port (legacy/legacy.js), both ways, 0 B to 64 MiB,
//   - tampering, wrong keys, aborts, progress, concurrency, permission bits, symlinks, errors.
// Errors made by the addon come from Node's main realm (not jest's): they are checked with
// Object.prototype.toString and `code`, never `instanceof`.
const crypto = require('crypto')
const fs = require('fs')
const fsp = require('fs/promises')
const os = require('os')
const path = require('path')
const { performance } = require('perf_hooks')
const addon = require('..')
const legacy = require('./legacy-port') // scrypt memoized: same bytes, no 50 ms per call
const { loadVectors, outcome } = require('./helpers')
const gcm = require('./gcm-math')

const MiB = 1 << 20
const CHUNK = MiB
const PASSWORD = 'files-test-password-Qx7'
const KEY = crypto.scryptSync(Buffer.from(PASSWORD, 'utf8'), 'salt', 32)
const TEMP_NAME = /^\..+\.[^.]+\.tmp$/ // .<name>.<random>.tmp

const isError = (e) => Object.prototype.toString.call(e) === '[object Error]'
const tempPattern = (name) => new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\..+\\.tmp$`)

let root
let seq = 0
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'axisor-files-test-'))
})
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

/** A fresh empty directory for one case. */
function freshDir(label = 'case') {
  const d = path.join(root, `${label}-${++seq}`)
  fs.mkdirSync(d)
  return d
}

function expectCode(result, code) {
  expect(result.ok).toBeUndefined()
  expect(isError(result.error)).toBe(true)
  expect(result.error.code).toBe(code)
  expect(String(result.error.message)).not.toContain(PASSWORD)
}

/** Names in `dir` that look like temporary files (anything starting with '.' or ending in .tmp). */
const tempsIn = (dir) => fs.readdirSync(dir).filter((n) => n.startsWith('.') || n.endsWith('.tmp'))

/** Node's own AES-256-GCM in the file format: the oracle. */
function nodeEncrypt(plain, iv, key = KEY) {
  const c = crypto.createCipheriv('aes-256-gcm', key, iv)
  const ct = Buffer.concat([c.update(plain), c.final()])
  return Buffer.concat([iv, c.getAuthTag(), ct])
}

/** Deterministic pseudo-random bytes (fast for large sizes; content only matters for equality). */
function pseudoRandom(size, seed = size) {
  const out = Buffer.allocUnsafe(size)
  const c = crypto.createCipheriv('aes-128-ctr', crypto.createHash('sha256').update(`seed ${seed}`).digest().subarray(0, 16), Buffer.alloc(16))
  let off = 0
  const zero = Buffer.alloc(Math.min(size, 4 * MiB))
  while (off < size) {
    const n = Math.min(zero.length, size - off)
    c.update(zero.subarray(0, n)).copy(out, off)
    off += n
  }
  return out
}

/** Write `size` pseudo-random bytes to `file` in 8 MiB pieces; returns the SHA-256 (hex). */
function writeBigFile(file, size, seed) {
  const h = crypto.createHash('sha256')
  const fd = fs.openSync(file, 'w')
  try {
    for (let off = 0; off < size; off += 8 * MiB) {
      const piece = pseudoRandom(Math.min(8 * MiB, size - off), `${seed}:${off}`)
      h.update(piece)
      fs.writeSync(fd, piece)
    }
  } finally {
    fs.closeSync(fd)
  }
  return h.digest('hex')
}

async function sha256File(file) {
  const h = crypto.createHash('sha256')
  for await (const piece of fs.createReadStream(file, { highWaterMark: 4 * MiB })) h.update(piece)
  return h.digest('hex')
}

const modeOf = (file) => fs.statSync(file).mode & 0o7777

// ---------------------------------------------------------------------------------------------
describe('legacy-compat.json file vectors', () => {
  const { vectors } = loadVectors('legacy-compat.json')
  const fileVectors = vectors.filter((v) => v.suite === 'file')
  const enc = fileVectors.filter((v) => v.op === 'encryptFile')
  const dec = fileVectors.filter((v) => v.op === 'decryptFile')
  const label = (v) => `${v.op}${v.name ? ` (${v.name})` : ''} ${(v.plaintextHex ?? v.inputHex).length / 2} B`

  test('the vector file has what this suite expects', () => {
    expect(fileVectors.length).toBe(10)
    expect(enc.length).toBe(7)
    expect(dec.every((v) => v.error !== undefined)).toBe(true)
  })

  test.each(enc.map((v) => [label(v), v]))('%s: exact bytes with the vector IV, and back', async (_, v) => {
    const dir = freshDir('vec')
    const plain = Buffer.from(v.plaintextHex, 'hex')
    const expected = Buffer.from(v.expectedHex, 'hex')
    const iv = Buffer.from(v.ivHex, 'hex')
    const pIn = path.join(dir, 'plain.bin')
    const pOut = path.join(dir, 'enc.bin')
    const pBack = path.join(dir, 'back.bin')
    fs.writeFileSync(pIn, plain)

    await addon.encryptFile(pIn, pOut, v.key, { iv })
    expect(fs.readFileSync(pOut).equals(expected)).toBe(true)
    expect(addon.encryptBuffer(plain, v.key, { iv }).equals(expected)).toBe(true)
    expect((await addon.encryptBufferAsync(plain, v.key, { iv })).equals(expected)).toBe(true)

    await addon.decryptFile(pOut, pBack, v.key)
    expect(fs.readFileSync(pBack).equals(plain)).toBe(true)
    expect(addon.decryptBuffer(expected, v.key).equals(plain)).toBe(true)
    expect((await addon.decryptBufferAsync(expected, v.key)).equals(plain)).toBe(true)

    // in place, with the same IV, gives the same bytes
    await addon.encryptFileInPlace(pIn, v.key, { iv })
    expect(fs.readFileSync(pIn).equals(expected)).toBe(true)
    await addon.decryptFileInPlace(pIn, v.key)
    expect(fs.readFileSync(pIn).equals(plain)).toBe(true)
    expect(tempsIn(dir)).toEqual([])
  })

  test.each(dec.map((v) => [label(v), v]))('%s: rejected, nothing written', async (_, v) => {
    const dir = freshDir('vec')
    const input = Buffer.from(v.inputHex, 'hex')
    const code = input.length < 32 ? 'ERR_INVALID_FORMAT' : 'ERR_AUTH_FAILED'
    const pIn = path.join(dir, 'enc.bin')
    const pOut = path.join(dir, 'out.bin')
    fs.writeFileSync(pIn, input)
    expectCode(await outcome(() => addon.decryptFile(pIn, pOut, v.key)), code)
    expect(fs.existsSync(pOut)).toBe(false)
    expectCode(await outcome(() => addon.decryptFileInPlace(pIn, v.key)), code)
    expect(fs.readFileSync(pIn).equals(input)).toBe(true)
    expectCode(await outcome(() => addon.decryptBuffer(input, v.key)), code)
    expectCode(await outcome(() => addon.decryptBufferAsync(input, v.key)), code)
    expect(fs.readdirSync(dir).sort()).toEqual(['enc.bin'])
  })

  test('deviation: every input shorter than 32 bytes is ERR_INVALID_FORMAT (Node took 20-31 bytes as a short tag)', async () => {
    const dir = freshDir('short')
    // What the legacy code accepted: an empty plaintext's file cut to 16 + k bytes is a k-byte
    // tag over nothing, and Node verifies truncated tags (4, 8, 12..15 bytes).
    const key = 'file-key'
    const full = path.join(dir, 'full.bin')
    const empty = path.join(dir, 'empty.bin')
    fs.writeFileSync(empty, Buffer.alloc(0))
    await legacy.createFileEncryptionService({ fileEncryptionKey: key }).encryptFile(empty, full)
    const whole = fs.readFileSync(full)
    expect(whole.length).toBe(32)
    const legacySvc = legacy.createFileEncryptionService({ fileEncryptionKey: key })
    let legacyAccepted = 0
    for (let len = 0; len < 32; len++) {
      const pIn = path.join(dir, `short-${len}.bin`)
      const pOut = path.join(dir, `short-${len}.out`)
      fs.writeFileSync(pIn, whole.subarray(0, len))
      const legacyResult = await outcome(() => legacySvc.decryptFile(pIn, path.join(dir, `legacy-${len}.out`)))
      if (legacyResult.error === undefined) legacyAccepted++
      expectCode(await outcome(() => addon.decryptFile(pIn, pOut, key)), 'ERR_INVALID_FORMAT')
      expect(fs.existsSync(pOut)).toBe(false)
      expectCode(await outcome(() => addon.decryptFileInPlace(pIn, key)), 'ERR_INVALID_FORMAT')
      expect(fs.readFileSync(pIn).equals(whole.subarray(0, len))).toBe(true)
      expectCode(await outcome(() => addon.decryptBuffer(whole.subarray(0, len), key)), 'ERR_INVALID_FORMAT')
    }
    // 20, 24 and 28..31 bytes (4, 8, 12..15-byte tags) were accepted by the legacy code
    expect(legacyAccepted).toBe(6)
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([])
  })
})

// ---------------------------------------------------------------------------------------------
describe('streaming path: chunk boundaries and the counter wrap', () => {
  const boundarySizes = [
    0, 1, 15, 16, 17, 4095, 4096, 65536 + 1,
    ...[-17, -16, -15, -1, 0, 1, 15, 16, 17].map((d) => CHUNK + d),
    ...[-17, -1, 0, 1, 17].map((d) => 2 * CHUNK + d),
    3 * CHUNK + 7,
    5 * CHUNK - 16,
  ]

  test.each(boundarySizes.map((s) => [s]))('%i bytes: encryptFile = encryptBuffer = Node, and both decrypt', async (size) => {
    const dir = freshDir('chunk')
    const plain = pseudoRandom(size, `chunk ${size}`)
    const iv = crypto.randomBytes(16)
    const expected = nodeEncrypt(plain, iv)
    const pIn = path.join(dir, 'p')
    const pOut = path.join(dir, 'e')
    const pBack = path.join(dir, 'd')
    fs.writeFileSync(pIn, plain)
    await addon.encryptFile(pIn, pOut, PASSWORD, { iv })
    const fromFile = fs.readFileSync(pOut)
    const fromBuffer = addon.encryptBuffer(plain, PASSWORD, { iv })
    expect(fromFile.length).toBe(size + 32)
    expect(fromFile.equals(fromBuffer)).toBe(true)
    expect(fromFile.equals(expected)).toBe(true)
    await addon.decryptFile(pOut, pBack, PASSWORD)
    expect(fs.readFileSync(pBack).equals(plain)).toBe(true)
    expect(addon.decryptBuffer(fromFile, PASSWORD).equals(plain)).toBe(true)
  })

  test('the GF(2^128) helper reproduces the J0 of every Wycheproof 128-bit-IV case, and Node passes the group', () => {
    const { testGroups } = loadVectors('wycheproof/aes_gcm_test.json')
    const group = testGroups.find((g) => g.keySize === 256 && g.ivSize === 128)
    expect(group.tests.length).toBe(19)
    let withJ0 = 0
    for (const t of group.tests) {
      const key = Buffer.from(t.key, 'hex')
      const iv = Buffer.from(t.iv, 'hex')
      const m = /J0:([0-9a-f]{32})/.exec(t.comment)
      if (m) {
        withJ0++
        expect(gcm.j0For(key, iv).toString('hex')).toBe(m[1])
        expect(gcm.ivForJ0(key, Buffer.from(m[1], 'hex')).toString('hex')).toBe(t.iv)
      }
      // Node (the oracle below) gets every case right, counter wraps included
      const d = crypto.createDecipheriv('aes-256-gcm', key, iv)
      d.setAAD(Buffer.from(t.aad, 'hex'))
      d.setAuthTag(Buffer.from(t.tag, 'hex'))
      const r = (() => {
        try {
          return Buffer.concat([d.update(Buffer.from(t.ct, 'hex')), d.final()]).toString('hex')
        } catch {
          return null
        }
      })()
      if (t.result === 'valid') expect(r).toBe(t.msg)
      else expect(r).toBeNull()
    }
    expect(withJ0).toBe(12)
  })

  // The 32-bit counter wraps at data block `w` (counter 0xffffffff then 0x00000000): at the very
  // first block, inside the first chunk, on both sides of the first chunk boundary, in a later chunk.
  const wraps = [0, 1, 2, CHUNK / 16 - 2, CHUNK / 16 - 1, CHUNK / 16, CHUNK / 16 + 1, (2 * CHUNK) / 16 + 5]
  test.each(wraps.map((w) => [w]))('counter wrap at data block %i: file = buffer = Node', async (w) => {
    const { iv, j0 } = gcm.ivWrappingAt(KEY, w)
    expect(gcm.j0For(KEY, iv).equals(j0)).toBe(true)
    // the IV really does that: block w of a zero message is E_K(upper96 ‖ 00000000)
    const counter0 = Buffer.concat([j0.subarray(0, 12), Buffer.alloc(4)])
    const probe = crypto.createCipheriv('aes-256-gcm', KEY, iv).update(Buffer.alloc((w + 1) * 16))
    expect(probe.subarray(w * 16).equals(gcm.aesBlock(KEY, counter0))).toBe(true)

    const dir = freshDir('wrap')
    for (const size of [(w + 1) * 16 + 3, 2 * CHUNK + 33]) {
      const plain = pseudoRandom(size, `wrap ${w} ${size}`)
      const pIn = path.join(dir, `p${size}`)
      const pOut = path.join(dir, `e${size}`)
      const pBack = path.join(dir, `d${size}`)
      fs.writeFileSync(pIn, plain)
      await addon.encryptFile(pIn, pOut, PASSWORD, { iv })
      const expected = nodeEncrypt(plain, iv)
      const got = fs.readFileSync(pOut)
      expect(got.equals(expected)).toBe(true)
      expect(addon.encryptBuffer(plain, PASSWORD, { iv }).equals(expected)).toBe(true)
      await addon.decryptFile(pOut, pBack, PASSWORD)
      expect(fs.readFileSync(pBack).equals(plain)).toBe(true)
    }
  })
})

// ---------------------------------------------------------------------------------------------
describe('side by side with the legacy FileEncryptionService', () => {
  const rnd = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1))
  const sizes = [0, 1, 15, 16, 17, rnd(100, 64 * 1024), CHUNK - 1, CHUNK + 1, rnd(2 * MiB, 4 * MiB), 8 * MiB, rnd(10 * MiB, 20 * MiB), 64 * MiB]
  const svc = legacy.createFileEncryptionService({ fileEncryptionKey: PASSWORD })

  test.each(sizes.map((s) => [s]))('%i bytes: addon → legacy and legacy → addon, files and buffers', async (size) => {
    const dir = freshDir('legacy')
    const plain = pseudoRandom(size, `legacy ${size} ${Math.random()}`)
    const p = (n) => path.join(dir, n)
    fs.writeFileSync(p('plain'), plain)

    // addon encrypts, legacy decrypts
    await addon.encryptFile(p('plain'), p('a.enc'), PASSWORD)
    expect(fs.statSync(p('a.enc')).size).toBe(size + 32)
    await svc.decryptFile(p('a.enc'), p('a.dec'))
    expect(fs.readFileSync(p('a.dec')).equals(plain)).toBe(true)

    // legacy encrypts, addon decrypts
    await svc.encryptFile(p('plain'), p('l.enc'))
    await addon.decryptFile(p('l.enc'), p('l.dec'), PASSWORD)
    expect(fs.readFileSync(p('l.dec')).equals(plain)).toBe(true)

    // same IV, same bytes
    const iv = crypto.randomBytes(16)
    await legacy.createFileEncryptionService({ fileEncryptionKey: PASSWORD, randomBytes: () => Buffer.from(iv) }).encryptFile(p('plain'), p('l2.enc'))
    await addon.encryptFile(p('plain'), p('a2.enc'), PASSWORD, { iv })
    expect(fs.readFileSync(p('a2.enc')).equals(fs.readFileSync(p('l2.enc')))).toBe(true)

    // in place, both ways
    fs.copyFileSync(p('plain'), p('inplace'))
    await addon.encryptFileInPlace(p('inplace'), PASSWORD)
    await svc.decryptFileInPlace(p('inplace'))
    expect(fs.readFileSync(p('inplace')).equals(plain)).toBe(true)
    await svc.encryptFileInPlace(p('inplace'))
    await addon.decryptFileInPlace(p('inplace'), PASSWORD)
    expect(fs.readFileSync(p('inplace')).equals(plain)).toBe(true)

    // buffers: the same format in memory
    const buf = addon.encryptBuffer(plain, PASSWORD)
    expect(buf.length).toBe(size + 32)
    fs.writeFileSync(p('b.enc'), buf)
    await svc.decryptFile(p('b.enc'), p('b.dec'))
    expect(fs.readFileSync(p('b.dec')).equals(plain)).toBe(true)
    expect(addon.decryptBuffer(fs.readFileSync(p('l.enc')), PASSWORD).equals(plain)).toBe(true)
    expect((await addon.decryptBufferAsync(fs.readFileSync(p('l.enc')), PASSWORD)).equals(plain)).toBe(true)
    const bufAsync = await addon.encryptBufferAsync(plain, PASSWORD)
    fs.writeFileSync(p('b2.enc'), bufAsync)
    await svc.decryptFile(p('b2.enc'), p('b2.dec'))
    expect(fs.readFileSync(p('b2.dec')).equals(plain)).toBe(true)

    expect(tempsIn(dir)).toEqual([])
    fs.rmSync(dir, { recursive: true })
  })

  test('empty plaintext: exactly 32 bytes, and back to an empty file', async () => {
    const dir = freshDir('empty')
    const p = (n) => path.join(dir, n)
    fs.writeFileSync(p('empty'), '')
    await addon.encryptFile(p('empty'), p('enc'), PASSWORD)
    expect(fs.statSync(p('enc')).size).toBe(32)
    expect(addon.encryptBuffer(Buffer.alloc(0), PASSWORD).length).toBe(32)
    expect((await addon.encryptBufferAsync(Buffer.alloc(0), PASSWORD)).length).toBe(32)
    await addon.decryptFile(p('enc'), p('dec'), PASSWORD)
    expect(fs.statSync(p('dec')).size).toBe(0)
    expect(addon.decryptBuffer(fs.readFileSync(p('enc')), PASSWORD).length).toBe(0)
    await addon.encryptFileInPlace(p('empty'), PASSWORD)
    expect(fs.statSync(p('empty')).size).toBe(32)
    await addon.decryptFileInPlace(p('empty'), PASSWORD)
    expect(fs.statSync(p('empty')).size).toBe(0)
  })

  test('fresh random IVs: encrypting one file twice gives two different files', async () => {
    const dir = freshDir('ivs')
    const p = (n) => path.join(dir, n)
    fs.writeFileSync(p('x'), 'same plaintext')
    await addon.encryptFile(p('x'), p('1'), PASSWORD)
    await addon.encryptFile(p('x'), p('2'), PASSWORD)
    expect(fs.readFileSync(p('1')).subarray(0, 16).equals(fs.readFileSync(p('2')).subarray(0, 16))).toBe(false)
    expect(addon.encryptBuffer(Buffer.from('x'), PASSWORD).subarray(0, 16).equals(addon.encryptBuffer(Buffer.from('x'), PASSWORD).subarray(0, 16))).toBe(false)
  })
})

// ---------------------------------------------------------------------------------------------
describe('tampering and wrong keys: rejected, nothing written, no temporary file left', () => {
  const size = 3 * CHUNK + 1000 // the middle block falls in the second chunk
  const plain = pseudoRandom(size, 'tamper')
  let good
  beforeAll(() => {
    good = nodeEncrypt(plain, crypto.randomBytes(16))
  })
  const ctStart = 32
  const positions = {
    'the IV': 5,
    'the tag': 16 + 9,
    'the first ciphertext block': ctStart + 3,
    'a middle ciphertext block': ctStart + Math.floor(size / 2),
    'the last ciphertext block': ctStart + size - 1,
  }

  test.each(Object.entries(positions))('a flipped byte in %s', async (_, at) => {
    const dir = freshDir('tamper')
    const p = (n) => path.join(dir, n)
    const bad = Buffer.from(good)
    bad[at] ^= 0x01
    fs.writeFileSync(p('bad.enc'), bad)
    expect(addon.decryptBuffer(good, PASSWORD).equals(plain)).toBe(true)

    // destination absent: stays absent
    expectCode(await outcome(() => addon.decryptFile(p('bad.enc'), p('out'), PASSWORD)), 'ERR_AUTH_FAILED')
    expect(fs.existsSync(p('out'))).toBe(false)
    // destination present: unchanged (same bytes, same inode)
    fs.writeFileSync(p('existing'), 'keep me')
    const inode = fs.statSync(p('existing')).ino
    expectCode(await outcome(() => addon.decryptFile(p('bad.enc'), p('existing'), PASSWORD)), 'ERR_AUTH_FAILED')
    expect(fs.readFileSync(p('existing'), 'utf8')).toBe('keep me')
    expect(fs.statSync(p('existing')).ino).toBe(inode)
    // in place: the file stays as it was
    expectCode(await outcome(() => addon.decryptFileInPlace(p('bad.enc'), PASSWORD)), 'ERR_AUTH_FAILED')
    expect(fs.readFileSync(p('bad.enc')).equals(bad)).toBe(true)
    // buffers
    expectCode(await outcome(() => addon.decryptBuffer(bad, PASSWORD)), 'ERR_AUTH_FAILED')
    expectCode(await outcome(() => addon.decryptBufferAsync(bad, PASSWORD)), 'ERR_AUTH_FAILED')
    // the legacy code rejects it too
    await expect(legacy.createFileEncryptionService({ fileEncryptionKey: PASSWORD }).decryptFile(p('bad.enc'), p('legacy.out'))).rejects.toThrow()
    fs.rmSync(p('legacy.out'), { force: true })

    expect(fs.readdirSync(dir).sort()).toEqual(['bad.enc', 'existing'])
  })

  test('truncated, extended and wrong-key files', async () => {
    const dir = freshDir('tamper2')
    const p = (n) => path.join(dir, n)
    const cases = {
      truncated: good.subarray(0, good.length - 1),
      'cut at a chunk boundary': good.subarray(0, 32 + CHUNK),
      'one byte appended': Buffer.concat([good, Buffer.from([0])]),
      'a chunk appended': Buffer.concat([good, Buffer.alloc(CHUNK)]),
      'header only': good.subarray(0, 32),
    }
    for (const [name, bytes] of Object.entries(cases)) {
      fs.writeFileSync(p('bad'), bytes)
      const r = await outcome(() => addon.decryptFile(p('bad'), p('out'), PASSWORD))
      expect([name, r.error && r.error.code]).toEqual([name, 'ERR_AUTH_FAILED'])
      expect(fs.existsSync(p('out'))).toBe(false)
      expectCode(await outcome(() => addon.decryptBuffer(bytes, PASSWORD)), 'ERR_AUTH_FAILED')
    }
    fs.writeFileSync(p('good'), good)
    for (const wrong of [`${PASSWORD}x`, '', PASSWORD.toUpperCase(), 'file-key']) {
      expectCode(await outcome(() => addon.decryptFile(p('good'), p('out'), wrong)), 'ERR_AUTH_FAILED')
      expect(fs.existsSync(p('out'))).toBe(false)
      expectCode(await outcome(() => addon.decryptFileInPlace(p('good'), wrong)), 'ERR_AUTH_FAILED')
      expect(fs.readFileSync(p('good')).equals(good)).toBe(true)
      expectCode(await outcome(() => addon.decryptBuffer(good, wrong)), 'ERR_AUTH_FAILED')
      expectCode(await outcome(() => addon.decryptBufferAsync(good, wrong)), 'ERR_AUTH_FAILED')
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['bad', 'good'])
  })
})

// ---------------------------------------------------------------------------------------------
describe('concurrency', () => {
  test('50 files encrypted concurrently, then decrypted concurrently', async () => {
    const dir = freshDir('concurrent')
    const p = (n) => path.join(dir, n)
    const sizes = Array.from({ length: 50 }, (_, i) => (i % 10 === 0 ? CHUNK + i * 1000 : Math.floor(Math.random() * 200000)))
    const plains = sizes.map((s, i) => pseudoRandom(s, `conc ${i}`))
    plains.forEach((b, i) => fs.writeFileSync(p(`f${i}`), b))
    await Promise.all(plains.map((_, i) => addon.encryptFile(p(`f${i}`), p(`f${i}.enc`), PASSWORD)))
    const svc = legacy.createFileEncryptionService({ fileEncryptionKey: PASSWORD })
    for (let i = 0; i < 50; i++) {
      await svc.decryptFile(p(`f${i}.enc`), p(`f${i}.legacy`))
      expect(fs.readFileSync(p(`f${i}.legacy`)).equals(plains[i])).toBe(true)
    }
    await Promise.all(plains.map((_, i) => addon.decryptFile(p(`f${i}.enc`), p(`f${i}.dec`), PASSWORD)))
    plains.forEach((b, i) => expect(fs.readFileSync(p(`f${i}.dec`)).equals(b)).toBe(true))
    // 50 in place in one directory
    await Promise.all(plains.map((_, i) => addon.encryptFileInPlace(p(`f${i}`), PASSWORD)))
    plains.forEach((b, i) => expect(fs.statSync(p(`f${i}`)).size).toBe(b.length + 32))
    await Promise.all(plains.map((_, i) => addon.decryptFileInPlace(p(`f${i}`), PASSWORD)))
    plains.forEach((b, i) => expect(fs.readFileSync(p(`f${i}`)).equals(b)).toBe(true))
    expect(tempsIn(dir)).toEqual([])
  })

  test('8 concurrent writers to one destination: unique temporary names, one complete result', async () => {
    const dir = freshDir('same-dest')
    const p = (n) => path.join(dir, n)
    const plains = Array.from({ length: 8 }, (_, i) => pseudoRandom(CHUNK + 4096 * i, `same ${i}`))
    plains.forEach((b, i) => fs.writeFileSync(p(`in${i}`), b))
    const results = await Promise.all(plains.map((_, i) => outcome(() => addon.encryptFile(p(`in${i}`), p('out'), PASSWORD))))
    expect(results.map((r) => r.error && r.error.code)).toEqual(plains.map(() => undefined))
    const got = addon.decryptBuffer(fs.readFileSync(p('out')), PASSWORD)
    expect(plains.some((b) => b.equals(got))).toBe(true)
    expect(tempsIn(dir)).toEqual([])
  })

  test('a stale legacy-style temporary file is neither used nor touched', async () => {
    const dir = freshDir('stale')
    const p = (n) => path.join(dir, n)
    fs.writeFileSync(p('data'), 'the data')
    fs.writeFileSync(p('data.tmp'), 'stale legacy temp')
    fs.writeFileSync(p('.data.tmp'), 'another stale temp')
    await addon.encryptFileInPlace(p('data'), PASSWORD)
    await addon.decryptFileInPlace(p('data'), PASSWORD)
    expect(fs.readFileSync(p('data'), 'utf8')).toBe('the data')
    expect(fs.readFileSync(p('data.tmp'), 'utf8')).toBe('stale legacy temp')
    expect(fs.readFileSync(p('.data.tmp'), 'utf8')).toBe('another stale temp')
    expect(fs.readdirSync(dir).sort()).toEqual(['.data.tmp', 'data', 'data.tmp'])
  })
})

// ---------------------------------------------------------------------------------------------
describe('large file: progress and abort', () => {
  const BIG = 256 * MiB
  let dir
  let big
  let bigHash
  let bigEnc
  let bigEncHash
  beforeAll(async () => {
    dir = freshDir('big')
    big = path.join(dir, 'big.bin')
    bigHash = writeBigFile(big, BIG, 'big')
    bigEnc = path.join(dir, 'big.enc')
    await addon.encryptFile(big, bigEnc, PASSWORD)
    bigEncHash = await sha256File(bigEnc)
  }, 120000)

  /** Run `op` with a progress recorder; returns the calls, elapsed ms and what was seen meanwhile. */
  async function withProgress(op, watchDir, destName) {
    const calls = []
    let settled = false
    const seenTemps = new Set()
    let destSeenEarly = false
    const t0 = performance.now()
    await op((done, total) => {
      calls.push({ t: performance.now() - t0, done, total, settled })
      if (done < total) {
        for (const n of fs.readdirSync(watchDir)) if (n.startsWith('.')) seenTemps.add(n)
        if (destName && fs.existsSync(path.join(watchDir, destName))) destSeenEarly = true
      }
    })
    settled = true
    return { calls, elapsed: performance.now() - t0, seenTemps: [...seenTemps], destSeenEarly }
  }

  function checkProgress({ calls, elapsed }, expectedTotal) {
    expect(calls.length).toBeGreaterThanOrEqual(1)
    expect(calls.every((c) => !c.settled)).toBe(true) // every call, the final one included, before the promise resolves
    const last = calls[calls.length - 1]
    expect(last.done).toBe(last.total)
    expect(expectedTotal).toContain(last.total)
    for (let i = 0; i < calls.length; i++) {
      expect(calls[i].total).toBe(last.total)
      expect(calls[i].done).toBeGreaterThanOrEqual(0)
      expect(calls[i].done).toBeLessThanOrEqual(calls[i].total)
      if (i > 0) expect(calls[i].done).toBeGreaterThanOrEqual(calls[i - 1].done)
    }
    // at most ~10 calls a second (one per 100 ms window, some slack for timer jitter), plus the final one
    expect(calls.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2)
  }

  test('encryptFile: throttled, monotonic progress; nothing at the destination before the end', async () => {
    const out = path.join(dir, 'progress.enc')
    const r = await withProgress((onProgress) => addon.encryptFile(big, out, PASSWORD, { onProgress }), dir, 'progress.enc')
    checkProgress(r, [BIG, BIG + 32])
    console.log(`encryptFile 256 MiB: ${r.calls.length} progress calls in ${r.elapsed.toFixed(0)} ms`)
    expect(r.destSeenEarly).toBe(false)
    // the temporary file lives beside the destination as .<name>.<random>.tmp
    for (const n of r.seenTemps) expect(n).toMatch(tempPattern('progress.enc'))
    if (r.calls.length > 1) expect(r.seenTemps.length).toBeGreaterThanOrEqual(1)
    expect(addon.decryptBuffer(fs.readFileSync(out), PASSWORD).length).toBe(BIG)
    fs.unlinkSync(out)
    expect(tempsIn(dir)).toEqual([])
  })

  test('decryptFile: throttled, monotonic progress; nothing at the destination before the tag verifies', async () => {
    const out = path.join(dir, 'progress.dec')
    const r = await withProgress((onProgress) => addon.decryptFile(bigEnc, out, PASSWORD, { onProgress }), dir, 'progress.dec')
    checkProgress(r, [BIG, BIG + 32])
    console.log(`decryptFile 256 MiB: ${r.calls.length} progress calls in ${r.elapsed.toFixed(0)} ms`)
    expect(r.destSeenEarly).toBe(false)
    for (const n of r.seenTemps) expect(n).toMatch(tempPattern('progress.dec'))
    expect(await sha256File(out)).toBe(bigHash)
    fs.unlinkSync(out)
    expect(tempsIn(dir)).toEqual([])
  })

  test('a small file still gets its final progress call', async () => {
    const d = freshDir('small-progress')
    for (const size of [0, 1, 1000]) {
      const f = path.join(d, `f${size}`)
      fs.writeFileSync(f, pseudoRandom(size))
      const r = await withProgress((onProgress) => addon.encryptFile(f, `${f}.enc`, PASSWORD, { onProgress }), d)
      checkProgress(r, [size, size + 32])
      const r2 = await withProgress((onProgress) => addon.decryptFile(`${f}.enc`, `${f}.dec`, PASSWORD, { onProgress }), d)
      checkProgress(r2, [size, size + 32])
      const r3 = await withProgress((onProgress) => addon.encryptFileInPlace(f, PASSWORD, { onProgress }), d)
      checkProgress(r3, [size, size + 32])
    }
  })

  /** Start `start(signal, onProgress)`, abort at the first progress call before the end. */
  async function abortMidway(start) {
    const ac = new AbortController()
    let first
    const r = await outcome(() =>
      start(ac.signal, (done, total) => {
        if (first === undefined) first = { done, total }
        if (done < total && !ac.signal.aborted) ac.abort()
      }),
    )
    expect(first).toBeDefined() // a progress call must come before the end of a 256 MiB file
    expect(first.done).toBeLessThan(first.total)
    expectCode(r, 'ABORT_ERR')
    expect(r.error.name).toBe('AbortError')
    return r
  }

  test('abort mid-file: encryptFile leaves no output and no temporary file', async () => {
    const out = path.join(dir, 'aborted.enc')
    await abortMidway((signal, onProgress) => addon.encryptFile(big, out, PASSWORD, { signal, onProgress }))
    expect(fs.existsSync(out)).toBe(false)
    expect(tempsIn(dir)).toEqual([])
  })

  test('abort mid-file: decryptFile leaves no output, an existing destination unchanged', async () => {
    const out = path.join(dir, 'aborted.dec')
    await abortMidway((signal, onProgress) => addon.decryptFile(bigEnc, out, PASSWORD, { signal, onProgress }))
    expect(fs.existsSync(out)).toBe(false)
    fs.writeFileSync(out, 'previous content')
    await abortMidway((signal, onProgress) => addon.decryptFile(bigEnc, out, PASSWORD, { signal, onProgress }))
    expect(fs.readFileSync(out, 'utf8')).toBe('previous content')
    fs.unlinkSync(out)
    expect(tempsIn(dir)).toEqual([])
  })

  test('abort mid-file in place: the original is untouched (bytes and mode)', async () => {
    const d = freshDir('abort-in-place')
    const f = path.join(d, 'data.bin')
    fs.copyFileSync(big, f)
    fs.chmodSync(f, 0o640)
    await abortMidway((signal, onProgress) => addon.encryptFileInPlace(f, PASSWORD, { signal, onProgress }))
    expect(await sha256File(f)).toBe(bigHash)
    expect(modeOf(f)).toBe(0o640)
    expect(fs.readdirSync(d)).toEqual(['data.bin'])
    fs.copyFileSync(bigEnc, f)
    await abortMidway((signal, onProgress) => addon.decryptFileInPlace(f, PASSWORD, { signal, onProgress }))
    expect(await sha256File(f)).toBe(bigEncHash)
    expect(fs.readdirSync(d)).toEqual(['data.bin'])
    fs.rmSync(d, { recursive: true })
  })

  test('an already aborted signal rejects at once and writes nothing', async () => {
    const d = freshDir('pre-aborted')
    const f = path.join(d, 'x')
    fs.writeFileSync(f, 'hello')
    const signal = AbortSignal.abort()
    for (const run of [
      () => addon.encryptFile(f, path.join(d, 'out'), PASSWORD, { signal }),
      () => addon.decryptFile(bigEnc, path.join(d, 'out'), PASSWORD, { signal }),
      () => addon.encryptFileInPlace(f, PASSWORD, { signal }),
    ]) {
      const r = await outcome(run)
      expectCode(r, 'ABORT_ERR')
      expect(r.error.name).toBe('AbortError')
    }
    expect(fs.readFileSync(f, 'utf8')).toBe('hello')
    expect(fs.readdirSync(d)).toEqual(['x'])
  })

  test('an abort after completion changes nothing', async () => {
    const d = freshDir('late-abort')
    const f = path.join(d, 'x')
    fs.writeFileSync(f, 'hello')
    const ac = new AbortController()
    await addon.encryptFile(f, path.join(d, 'out'), PASSWORD, { signal: ac.signal })
    ac.abort()
    expect(addon.decryptBuffer(fs.readFileSync(path.join(d, 'out')), PASSWORD).toString()).toBe('hello')
  })

  test('the event loop stays responsive while 256 MiB encrypts (no stall over 200 ms)', async () => {
    const out = path.join(dir, 'loop.enc')
    let maxGap = 0
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      maxGap = Math.max(maxGap, now - last)
      last = now
    }, 5)
    try {
      await addon.encryptFile(big, out, PASSWORD)
    } finally {
      clearInterval(timer)
    }
    fs.unlinkSync(out)
    // a synchronous 256 MiB encryption would stall the loop for several hundred ms; the bench
    // measures the p99 delay precisely (bench/files.js)
    expect(maxGap).toBeLessThan(200)
  })
})

// ---------------------------------------------------------------------------------------------
describe('in place: permission bits; symlinks', () => {
  test.each([[0o640], [0o600], [0o755], [0o444]])('mode %o survives encrypt and decrypt in place', async (mode) => {
    const dir = freshDir('mode')
    const f = path.join(dir, 'secret.bin')
    const plain = pseudoRandom(CHUNK + 5, `mode ${mode}`)
    fs.writeFileSync(f, plain)
    fs.chmodSync(f, mode)
    await addon.encryptFileInPlace(f, PASSWORD)
    expect(modeOf(f)).toBe(mode)
    expect(fs.statSync(f).size).toBe(plain.length + 32)
    await addon.decryptFileInPlace(f, PASSWORD)
    expect(modeOf(f)).toBe(mode)
    expect(fs.readFileSync(f).equals(plain)).toBe(true)
    expect(fs.readdirSync(dir)).toEqual(['secret.bin'])
  })

  /** dir/links/link → ../targets/target.bin (a relative link into another directory). */
  function linkSetup(content) {
    const dir = freshDir('symlink')
    fs.mkdirSync(path.join(dir, 'links'))
    fs.mkdirSync(path.join(dir, 'targets'))
    const target = path.join(dir, 'targets', 'target.bin')
    const link = path.join(dir, 'links', 'link')
    if (content !== undefined) fs.writeFileSync(target, content)
    fs.symlinkSync(path.join('..', 'targets', 'target.bin'), link)
    return { dir, target, link }
  }
  const noTemps = (dir) => {
    expect(tempsIn(path.join(dir, 'links'))).toEqual([])
    expect(tempsIn(path.join(dir, 'targets'))).toEqual([])
  }

  test('in place through a symlink: the link stays a link, its target is replaced, mode kept', async () => {
    const plain = pseudoRandom(2 * CHUNK + 3, 'symlink')
    const { dir, target, link } = linkSetup(plain)
    fs.chmodSync(target, 0o640)
    await addon.encryptFileInPlace(link, PASSWORD)
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
    expect(fs.readlinkSync(link)).toBe(path.join('..', 'targets', 'target.bin'))
    expect(fs.statSync(target).size).toBe(plain.length + 32)
    expect(modeOf(target)).toBe(0o640)
    expect(addon.decryptBuffer(fs.readFileSync(target), PASSWORD).equals(plain)).toBe(true)
    await addon.decryptFileInPlace(link, PASSWORD)
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
    expect(fs.readFileSync(target).equals(plain)).toBe(true)
    expect(modeOf(target)).toBe(0o640)
    noTemps(dir)
  })

  test('a symlink destination is followed: encryptFile and decryptFile replace the target', async () => {
    const plain = pseudoRandom(CHUNK - 1, 'symlink dest')
    const { dir, target, link } = linkSetup('old target content')
    const src = path.join(dir, 'src.bin')
    fs.writeFileSync(src, plain)
    await addon.encryptFile(src, link, PASSWORD)
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
    expect(addon.decryptBuffer(fs.readFileSync(target), PASSWORD).equals(plain)).toBe(true)
    const enc = path.join(dir, 'src.enc')
    fs.copyFileSync(target, enc)
    fs.writeFileSync(target, 'old again')
    await addon.decryptFile(enc, link, PASSWORD)
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
    expect(fs.readFileSync(target).equals(plain)).toBe(true)
    noTemps(dir)
    // a failed decrypt through the link leaves link and target alone
    const bad = Buffer.from(fs.readFileSync(enc))
    bad[40] ^= 1
    fs.writeFileSync(enc, bad)
    expectCode(await outcome(() => addon.decryptFile(enc, link, PASSWORD)), 'ERR_AUTH_FAILED')
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
    expect(fs.readFileSync(target).equals(plain)).toBe(true)
    noTemps(dir)
  })

  test('a symlink as input is read through', async () => {
    const { dir, link } = linkSetup('through the link')
    const out = path.join(dir, 'out.enc')
    await addon.encryptFile(link, out, PASSWORD)
    expect(addon.decryptBuffer(fs.readFileSync(out), PASSWORD).toString()).toBe('through the link')
  })
})

// ---------------------------------------------------------------------------------------------
describe('errors', () => {
  let dir
  let plainFile
  let encFile
  beforeAll(async () => {
    dir = freshDir('errors')
    plainFile = path.join(dir, 'plain')
    encFile = path.join(dir, 'enc')
    fs.writeFileSync(plainFile, 'some plaintext')
    await addon.encryptFile(plainFile, encFile, PASSWORD)
  })

  test('a missing input is ENOENT, and nothing is written', async () => {
    const missing = path.join(dir, 'does-not-exist')
    const out = path.join(dir, 'out-missing')
    expectCode(await outcome(() => addon.encryptFile(missing, out, PASSWORD)), 'ENOENT')
    expectCode(await outcome(() => addon.decryptFile(missing, out, PASSWORD)), 'ENOENT')
    expectCode(await outcome(() => addon.encryptFileInPlace(missing, PASSWORD)), 'ENOENT')
    expectCode(await outcome(() => addon.decryptFileInPlace(missing, PASSWORD)), 'ENOENT')
    expect(fs.existsSync(out)).toBe(false)
    expect(fs.existsSync(missing)).toBe(false)
    expect(tempsIn(dir)).toEqual([])
  })

  test('a directory as input, or an output in a missing directory, is an I/O error', async () => {
    const r1 = await outcome(() => addon.encryptFile(dir, path.join(dir, 'out-dir'), PASSWORD))
    expect(isError(r1.error)).toBe(true)
    expect(r1.error.code).toBe('ERR_FILE_IO')
    const r2 = await outcome(() => addon.encryptFile(plainFile, path.join(dir, 'no', 'such', 'dir', 'out'), PASSWORD))
    expect(isError(r2.error)).toBe(true)
    expect(['ENOENT', 'ERR_FILE_IO']).toContain(r2.error.code)
    const r3 = await outcome(() => addon.decryptFile(encFile, path.join(dir, 'no', 'out'), PASSWORD))
    expect(['ENOENT', 'ERR_FILE_IO']).toContain(r3.error.code)
    expect(tempsIn(dir)).toEqual([])
  })

  const notStrings = [undefined, null, 1, true, {}, [], Buffer.from('x')]
  test('arguments of the wrong type are TypeErrors (ERR_INVALID_ARG_TYPE); the Promise rejects, nothing throws', async () => {
    const out = path.join(dir, 'out-type')
    for (const bad of notStrings) {
      for (const call of [
        () => addon.encryptFile(bad, out, PASSWORD),
        () => addon.encryptFile(plainFile, bad, PASSWORD),
        () => addon.encryptFile(plainFile, out, bad),
        () => addon.decryptFile(bad, out, PASSWORD),
        () => addon.decryptFile(encFile, bad, PASSWORD),
        () => addon.decryptFile(encFile, out, bad),
        () => addon.encryptFileInPlace(bad, PASSWORD),
        () => addon.encryptFileInPlace(plainFile, bad),
        () => addon.decryptFileInPlace(bad, PASSWORD),
        () => addon.decryptFileInPlace(encFile, bad),
      ]) {
        let p
        expect(() => {
          p = call()
        }).not.toThrow()
        const r = await outcome(() => p)
        expectCode(r, 'ERR_INVALID_ARG_TYPE')
        expect(r.error.name).toBe('TypeError')
      }
    }
    for (const bad of [undefined, null, 1, 'a string', {}, [1, 2]]) {
      for (const call of [
        () => addon.encryptBuffer(bad, PASSWORD),
        () => addon.decryptBuffer(bad, PASSWORD),
        () => addon.encryptBufferAsync(bad, PASSWORD),
        () => addon.decryptBufferAsync(bad, PASSWORD),
      ]) {
        const r = await outcome(call)
        expectCode(r, 'ERR_INVALID_ARG_TYPE')
        expect(r.error.name).toBe('TypeError')
      }
    }
    for (const bad of [undefined, null, 1, Buffer.from('pw')]) {
      expectCode(await outcome(() => addon.encryptBuffer(Buffer.from('x'), bad)), 'ERR_INVALID_ARG_TYPE')
      expectCode(await outcome(() => addon.decryptBuffer(Buffer.alloc(40), bad)), 'ERR_INVALID_ARG_TYPE')
    }
    expect(fs.existsSync(out)).toBe(false)
    expect(fs.readFileSync(plainFile, 'utf8')).toBe('some plaintext')
  })

  test('options of the wrong shape', async () => {
    const out = path.join(dir, 'out-opts')
    for (const opts of ['x', 1, { onProgress: 'not a function' }, { signal: {} }, { signal: 'abort' }, { iv: 'not a buffer' }]) {
      expectCode(await outcome(() => addon.encryptFile(plainFile, out, PASSWORD, opts)), 'ERR_INVALID_ARG_TYPE')
    }
    for (const opts of [{ onProgress: 1 }, { signal: {} }]) {
      expectCode(await outcome(() => addon.decryptFile(encFile, out, PASSWORD, opts)), 'ERR_INVALID_ARG_TYPE')
      expectCode(await outcome(() => addon.encryptFileInPlace(plainFile, PASSWORD, opts)), 'ERR_INVALID_ARG_TYPE')
    }
    for (const iv of [Buffer.alloc(15), Buffer.alloc(12), Buffer.alloc(17), Buffer.alloc(0)]) {
      const r = await outcome(() => addon.encryptFile(plainFile, out, PASSWORD, { iv }))
      expect(isError(r.error)).toBe(true)
      expect(['ERR_INVALID_IV', 'ERR_INVALID_ARG_VALUE']).toContain(r.error.code)
      const rb = await outcome(() => addon.encryptBuffer(Buffer.from('x'), PASSWORD, { iv }))
      expect(['ERR_INVALID_IV', 'ERR_INVALID_ARG_VALUE']).toContain(rb.error && rb.error.code)
    }
    expect(fs.existsSync(out)).toBe(false)
    // undefined and null are no options
    await addon.encryptFile(plainFile, out, PASSWORD, undefined)
    await addon.encryptFile(plainFile, out, PASSWORD, null)
    expect(addon.decryptBuffer(fs.readFileSync(out), PASSWORD).toString()).toBe('some plaintext')
    expect(fs.readFileSync(plainFile, 'utf8')).toBe('some plaintext')
  })

  test('an onProgress that throws does not break the operation or the process', async () => {
    const out = path.join(dir, 'out-throwing-progress')
    const r = await outcome(() =>
      addon.encryptFile(plainFile, out, PASSWORD, {
        onProgress: () => {
          throw new Error('from onProgress')
        },
      }),
    )
    // either it completes, or it fails with a coded error and leaves nothing behind
    if (r.error) {
      expect(isError(r.error)).toBe(true)
      expect(fs.existsSync(out)).toBe(false)
    } else {
      expect(addon.decryptBuffer(fs.readFileSync(out), PASSWORD).toString()).toBe('some plaintext')
    }
    expect(tempsIn(dir)).toEqual([])
  })

  test('a listener added to the signal is removed again, also when another option is refused', async () => {
    // A signal-like object that counts its listeners (Node's own APIs accept one, and so does the addon).
    const listeners = new Set()
    const signal = { aborted: false, addEventListener: (t, l) => listeners.add(l), removeEventListener: (t, l) => listeners.delete(l) }
    const out = path.join(dir, 'out-listener')
    expectCode(await outcome(() => addon.encryptFile(plainFile, out, PASSWORD, { signal, onProgress: 'not a function' })), 'ERR_INVALID_ARG_TYPE')
    expect(listeners.size).toBe(0)
    await addon.encryptFile(plainFile, out, PASSWORD, { signal })
    expect(listeners.size).toBe(0)
    expectCode(await outcome(() => addon.decryptFile(plainFile, out, PASSWORD, { signal })), 'ERR_INVALID_FORMAT') // 14 bytes: too short
    expect(listeners.size).toBe(0)
    expect(addon.decryptBuffer(fs.readFileSync(out), PASSWORD).toString()).toBe('some plaintext')
  })

  test('destination names up to 255 bytes work (the temporary name is cut to fit)', async () => {
    for (const len of [200, 237, 238, 255]) {
      const name = path.join(dir, 'n'.repeat(len))
      await addon.encryptFile(plainFile, name, PASSWORD)
      await addon.decryptFileInPlace(name, PASSWORD)
      expect(fs.readFileSync(name, 'utf8')).toBe('some plaintext')
      fs.rmSync(name)
    }
    expect(tempsIn(dir)).toEqual([])
  })
})
