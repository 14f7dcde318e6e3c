'use strict'
// Crash safety of the in-place operations (issue 4): a child process (fixtures/in-place.js)
// encrypting a 32 MiB file in place is SIGKILLed at random moments, at least 50 times. After each
// kill the file must be byte-identical to the original or decrypt (with the addon) to it, with its
// permission bits; leftover temporary files are allowed but must be named .<name>.<random>.tmp.
// Then the same for decrypting in place. An unkilled run calibrates the timing first: the kill
// delays are stratified over the whole run (start-up included) and, twice as densely, over the
// operation itself. KILL_RUNS / KILL_RUNS_DECRYPT change the numbers of kills.
const { spawn } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { performance } = require('perf_hooks')
const addon = require('..')

const MiB = 1 << 20
const SIZE = 32 * MiB
const MODE = 0o640
const PASSWORD = 'kill-test-password-Hq3'
const MIN_KILLS = 50
const ENCRYPT_RUNS = Number(process.env.KILL_RUNS || 60)
const DECRYPT_RUNS = Number(process.env.KILL_RUNS_DECRYPT || 20)
const FIXTURE = path.join(__dirname, 'fixtures', 'in-place.js')
const NAME = 'data.bin'
const TEMP = /^\.data\.bin\..+\.tmp$/

let root
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'axisor-kill-test-'))
})
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

/** Run the fixture; kill it `killAfter` ms after spawning (null: let it finish). */
function runChild(op, file, killAfter) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, [FIXTURE, op, file, PASSWORD], { stdio: ['ignore', 'pipe', 'pipe'] })
    const r = { readyAt: null, doneAt: null, killedAt: null, phaseAtKill: null, stderr: '' }
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      if (r.readyAt === null && out.includes('ready')) r.readyAt = performance.now() - t0
      if (r.doneAt === null && out.includes('done')) r.doneAt = performance.now() - t0
    })
    child.stderr.on('data', (d) => {
      r.stderr += d
    })
    let timer = null
    if (killAfter !== null) {
      timer = setTimeout(() => {
        r.killedAt = performance.now() - t0
        r.phaseAtKill = r.doneAt !== null ? 'after done' : r.readyAt !== null ? 'during the operation' : 'during start-up'
        child.kill('SIGKILL')
      }, killAfter)
    }
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      resolve({ ...r, code, signal, exitAt: performance.now() - t0 })
    })
  })
}

/** Delays: a third stratified over [0, end], two thirds over [ready, end], shuffled. */
function schedule(n, ready, end) {
  const whole = Math.ceil(n / 3)
  const inOp = n - whole
  const ds = []
  for (let i = 0; i < whole; i++) ds.push(((i + Math.random()) / whole) * end)
  for (let i = 0; i < inOp; i++) ds.push(ready + ((i + Math.random()) / inOp) * (end - ready))
  for (let i = ds.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[ds[i], ds[j]] = [ds[j], ds[i]]
  }
  return ds
}

/**
 * Kill `op` on a file that starts as `before` at random moments; after each run the file must be
 * `before` or a complete result: `isAfter(bytes)`. Returns the tallies.
 */
async function killLoop(op, before, isAfter, runs) {
  const dir = fs.mkdtempSync(path.join(root, `${op}-`))
  const file = path.join(dir, NAME)
  const reset = () => {
    fs.writeFileSync(file, before)
    fs.chmodSync(file, MODE)
  }
  const tally = { runs: 0, kills: 0, before: 0, after: 0, leftovers: 0, phases: {} }

  /** Check the directory after a run; returns 'before' or 'after'. */
  const inspect = (r, label) => {
    const others = fs.readdirSync(dir).filter((n) => n !== NAME)
    for (const n of others) {
      expect([label, n]).toEqual([label, expect.stringMatching(TEMP)])
      fs.rmSync(path.join(dir, n), { force: true })
    }
    tally.leftovers += others.length
    expect([label, fs.existsSync(file)]).toEqual([label, true])
    const bytes = fs.readFileSync(file)
    let state
    if (bytes.equals(before)) state = 'before'
    else if (isAfter(bytes)) state = 'after'
    else state = `neither: ${bytes.length} bytes`
    expect([label, state]).toEqual([label, expect.stringMatching(/^(before|after)$/)])
    expect([label, fs.statSync(file).mode & 0o7777]).toEqual([label, MODE])
    if (r.signal !== 'SIGKILL') {
      // not killed: it must have finished cleanly
      expect([label, r.code, r.stderr]).toEqual([label, 0, ''])
      expect([label, state]).toEqual([label, 'after'])
    }
    return state
  }

  // calibration: unkilled runs
  const cal = []
  for (let i = 0; i < 2; i++) {
    reset()
    const r = await runChild(op, file, null)
    expect([`calibration ${i}`, r.code, r.stderr]).toEqual([`calibration ${i}`, 0, ''])
    inspect(r, `calibration ${i}`)
    cal.push(r)
  }
  // the first run warms the page cache and the addon's loading; the second one calibrates
  const ready = cal[1].readyAt
  const end = cal[1].exitAt

  const delays = schedule(runs, ready, end)
  for (let i = 0; tally.kills < Math.min(MIN_KILLS, runs) || i < delays.length; i++) {
    if (i >= delays.length + 60) throw new Error(`only ${tally.kills} kills landed in ${i} runs`)
    const delay = i < delays.length ? delays[i] : ready + Math.random() * (end - ready) * 0.9
    reset()
    const r = await runChild(op, file, delay)
    tally.runs++
    const landed = r.signal === 'SIGKILL'
    if (landed) {
      tally.kills++
      tally.phases[r.phaseAtKill] = (tally.phases[r.phaseAtKill] || 0) + 1
    }
    const state = inspect(r, `${op} run ${i}, kill at ${delay.toFixed(1)} ms (${landed ? r.phaseAtKill : 'not killed'})`)
    if (landed) tally[state]++
  }
  console.log(
    `${op} in place, ${SIZE / MiB} MiB: unkilled run ${end.toFixed(0)} ms (operation from ~${ready.toFixed(0)} ms); ` +
      `${tally.runs} runs, ${tally.kills} killed (${Object.entries(tally.phases)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}); after the kill: ${tally.before} original, ${tally.after} complete result; ` +
      `${tally.leftovers} leftover temporary file(s), all named .${NAME}.<random>.tmp`,
  )
  return tally
}

test('SIGKILL while encrypting in place: the original or the complete result, never anything else', async () => {
  const plain = crypto.randomBytes(SIZE)
  const tally = await killLoop(
    'encrypt',
    plain,
    (bytes) => {
      if (bytes.length !== SIZE + 32) return false
      try {
        return addon.decryptBuffer(bytes, PASSWORD).equals(plain)
      } catch {
        return false
      }
    },
    ENCRYPT_RUNS,
  )
  expect(tally.kills).toBeGreaterThanOrEqual(Math.min(MIN_KILLS, ENCRYPT_RUNS))
}, 170000)

test('SIGKILL while decrypting in place: the ciphertext or the plaintext, never anything else', async () => {
  const plain = crypto.randomBytes(SIZE)
  const enc = addon.encryptBuffer(plain, PASSWORD)
  const tally = await killLoop('decrypt', enc, (bytes) => bytes.equals(plain), DECRYPT_RUNS)
  expect(tally.kills).toBeGreaterThanOrEqual(Math.min(MIN_KILLS, DECRYPT_RUNS))
}, 120000)
