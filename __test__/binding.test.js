'use strict'
// The loaded binding itself: the hot sync exports are plain N-API callbacks installed over the
// napi-rs ones when the module loads (once per environment), so check that they are what a caller
// expects in the main thread and in worker threads, with surplus or missing arguments.
const { Worker } = require('worker_threads')
const addon = require('..')

const PASSWORD = 'binding-test-password'
const HEX_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'
const HOT = ['encryptData', 'decryptData', 'encryptSecure', 'decryptSecure']

test('the hot exports are named functions on the binding', () => {
  for (const name of HOT) {
    expect(typeof addon[name]).toBe('function')
    expect(addon[name].name).toBe(name)
  }
})

test('surplus arguments are ignored, missing ones are undefined (a TypeError)', () => {
  const enc = addon.encryptData('v', PASSWORD, undefined, 'surplus', {})
  expect(addon.decryptData(enc, PASSWORD, 'surplus')).toBe('v')
  const sec = addon.encryptSecure('v', HEX_KEY, null, 1, 2)
  expect(addon.decryptSecure(sec, HEX_KEY, 3)).toBe('v')
  for (const name of HOT) {
    expect(() => addon[name]('x')).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }))
  }
})

test('a detached call (no receiver) and a call on another receiver behave alike', () => {
  const { decryptData, encryptData } = addon
  expect(decryptData(encryptData('detached', PASSWORD), PASSWORD)).toBe('detached')
  expect(decryptData.call({ not: 'the binding' }, encryptData.apply(null, ['other', PASSWORD]), PASSWORD)).toBe('other')
})

function inWorker(source, workerData) {
  return new Promise((resolve, reject) => {
    const w = new Worker(source, { eval: true, workerData })
    w.once('message', resolve)
    w.once('error', reject)
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)))
  })
}

test('workers load the binding too: values cross between threads, errors keep their codes', async () => {
  const fromMain = { cbc: addon.encryptData('from main ✓', PASSWORD), gcm: addon.encryptSecure('from main ✓', HEX_KEY) }
  const result = await inWorker(
    `
    const { parentPort, workerData } = require('worker_threads')
    const a = require(${JSON.stringify(require.resolve('..'))})
    const { password, hexKey, fromMain } = workerData
    let code
    try { a.decryptSecure(fromMain.gcm.slice(0, -2) + '00', hexKey) } catch (e) { code = e.code }
    parentPort.postMessage({
      cbc: a.decryptData(fromMain.cbc, password),
      gcm: a.decryptSecure(fromMain.gcm, hexKey),
      back: { cbc: a.encryptData('from worker ✓', password), gcm: a.encryptSecure('from worker ✓', hexKey) },
      names: ${JSON.stringify(HOT)}.map((n) => a[n].name),
      code,
    })
    `,
    { password: PASSWORD, hexKey: HEX_KEY, fromMain },
  )
  expect(result.cbc).toBe('from main ✓')
  expect(result.gcm).toBe('from main ✓')
  expect(result.names).toEqual(HOT)
  expect(result.code).toBe('ERR_AUTH_FAILED')
  expect(addon.decryptData(result.back.cbc, PASSWORD)).toBe('from worker ✓')
  expect(addon.decryptSecure(result.back.gcm, HEX_KEY)).toBe('from worker ✓')
})

test('a worker that exits while the main thread keeps using the binding', async () => {
  for (let i = 0; i < 3; i++) {
    await inWorker(
      `const a = require(${JSON.stringify(require.resolve('..'))}); a.decryptData(a.encryptData('x', 'p'), 'p'); require('worker_threads').parentPort.postMessage(1)`,
    )
  }
  expect(addon.decryptData(addon.encryptData('still here', PASSWORD), PASSWORD)).toBe('still here')
})
