#!/usr/bin/env node
// File encryption (issue 4): the addon's encryptFile/decryptFile against the legacy
// FileEncryptionService (legacy/legacy.js, faithful: readFile whole, Node crypto, writeFile, scrypt
// per call) on 256 MiB and 1 GiB files in os.tmpdir(). Every run is a fresh child process, so the
// peak RSS (process.resourceUsage().maxRSS) is that run's own; the time is the operation alone
// (key derivation included on both sides, process start-up and require excluded). Rounds are
// interleaved (the order flips every round); the median is reported. Also:
//   - the event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) while the addon
//     encrypts (its p99 for 1 GiB is a gate),
//   - the raw in-memory AES-256-GCM throughput of encryptBuffer/decryptBuffer at 8 KiB to 64 MiB
//     a call, beside `openssl speed -evp aes-256-gcm -bytes 8192` on the same machine.
// The gates are printed PASS/FAIL; the exit code stays 0 when a gate fails (1 only if
// something breaks: a child crashes or a decrypted file differs from the original).
// Knobs: BENCH_FILE_SIZES (e.g. "256M,1G"), BENCH_FILE_ROUNDS (default 3), BENCH_OPENSSL_SECONDS (3).
'use strict'
const { spawnSync, execFileSync } = require('child_process')
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { monitorEventLoopDelay } = require('perf_hooks')

const MiB = 1 << 20
const PASSWORD = 'bench-file-encryption-key'
const ROUNDS = Number(process.env.BENCH_FILE_ROUNDS || 3)
const OPENSSL_SECONDS = Number(process.env.BENCH_OPENSSL_SECONDS || 3)
const SIZES = (process.env.BENCH_FILE_SIZES || '256M,1G').split(',').map((s) => {
  const m = /^(\d+)([KMG])$/i.exec(s.trim())
  if (!m) throw new Error(`bad size ${s}`)
  return Number(m[1]) * { K: 1024, M: MiB, G: 1024 * MiB }[m[2].toUpperCase()]
})

const label = (bytes) => (bytes >= 1024 * MiB ? `${bytes / 1024 / MiB} GiB` : `${bytes / MiB} MiB`)
const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000)
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`)
const fmtMiB = (kib) => `${(kib / 1024).toFixed(1)} MiB`

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)))
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ')).join('\n')
}

// ---------------------------------------------------------------------------------------------
// Child: one operation, one process.
async function child(job) {
  const rssBeforeKiB = process.memoryUsage().rss / 1024
  const h = monitorEventLoopDelay({ resolution: 1 })
  let run
  if (job.impl === 'addon') {
    const addon = require(path.resolve(__dirname, '..'))
    run = () => addon[job.op === 'encrypt' ? 'encryptFile' : 'decryptFile'](job.input, job.output, PASSWORD)
  } else {
    const legacy = require('../legacy/legacy.js')
    const svc = legacy.createFileEncryptionService({ fileEncryptionKey: PASSWORD })
    run = () => svc[job.op === 'encrypt' ? 'encryptFile' : 'decryptFile'](job.input, job.output)
  }
  const rssLoadedKiB = process.memoryUsage().rss / 1024
  h.enable()
  const t0 = process.hrtime.bigint()
  await run()
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  h.disable()
  const maxRssKiB = process.resourceUsage().maxRSS
  // For context only: what making the output durable costs (the addon fsyncs before it renames;
  // the legacy writeFile leaves the data in the page cache).
  let fsyncMs = 0
  if (job.impl === 'legacy') {
    const t1 = process.hrtime.bigint()
    const fd = fs.openSync(job.output, 'r+')
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fsyncMs = Number(process.hrtime.bigint() - t1) / 1e6
  }
  const res = { ms, fsyncMs, maxRssKiB, rssBeforeKiB, rssLoadedKiB, p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 }
  process.stdout.write(`${JSON.stringify(res)}\n`)
}

// ---------------------------------------------------------------------------------------------
// Parent.

function runChild(job) {
  try {
    execFileSync('sync') // flush earlier runs' dirty pages first, untimed
  } catch {
    // no sync(1) on this system
  }
  const r = spawnSync(process.execPath, [__filename, '--child', JSON.stringify(job)], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (r.status !== 0) throw new Error(`${job.impl} ${job.op} failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

/** Pseudo-random bytes (AES-CTR keystream), written in 8 MiB pieces; returns the SHA-256. */
function makeInput(file, size) {
  const c = crypto.createCipheriv('aes-128-ctr', crypto.randomBytes(16), crypto.randomBytes(16))
  const zero = Buffer.alloc(8 * MiB)
  const h = crypto.createHash('sha256')
  const fd = fs.openSync(file, 'w')
  try {
    for (let off = 0; off < size; off += zero.length) {
      const piece = c.update(zero.subarray(0, Math.min(zero.length, size - off)))
      h.update(piece)
      fs.writeSync(fd, piece)
    }
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  return h.digest('hex')
}

function sha256File(file) {
  const h = crypto.createHash('sha256')
  const fd = fs.openSync(file, 'r')
  const buf = Buffer.allocUnsafe(8 * MiB)
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      h.update(buf.subarray(0, n))
    }
  } finally {
    fs.closeSync(fd)
  }
  return h.digest('hex')
}

function fileRuns(dir) {
  const results = [] // { size, impl, op, runs: [...] }
  const get = (size, impl, op) => {
    let e = results.find((x) => x.size === size && x.impl === impl && x.op === op)
    if (!e) results.push((e = { size, impl, op, runs: [] }))
    return e
  }
  for (const size of SIZES) {
    const src = path.join(dir, `plain-${size}.bin`)
    const t0 = Date.now()
    const srcHash = makeInput(src, size)
    process.stdout.write(`  ${label(size)}: input written (${fmtMs(Date.now() - t0)})`)
    for (let round = 0; round < ROUNDS; round++) {
      const impls = round % 2 === 0 ? ['addon', 'legacy'] : ['legacy', 'addon']
      for (const op of ['encrypt', 'decrypt']) {
        for (const impl of impls) {
          const enc = path.join(dir, `${impl}-${size}.enc`)
          const dec = path.join(dir, `${impl}-${size}.dec`)
          const job = op === 'encrypt' ? { impl, op, input: src, output: enc } : { impl, op, input: enc, output: dec }
          const r = runChild(job)
          get(size, impl, op).runs.push(r)
          const outSize = fs.statSync(job.output).size
          if (outSize !== (op === 'encrypt' ? size + 32 : size)) throw new Error(`${impl} ${op}: output of ${outSize} bytes`)
          if (op === 'decrypt') {
            if (round === 0 && sha256File(dec) !== srcHash) throw new Error(`${impl} decrypt: the output differs from the original`)
            fs.unlinkSync(dec)
            fs.unlinkSync(enc)
          }
        }
      }
      process.stdout.write('.')
    }
    process.stdout.write('\n')
    fs.unlinkSync(src)
  }
  return results
}

/**
 * In-memory AES-256-GCM at several call sizes, as a server calls it: only the time inside the
 * calls is counted, and the event loop turns after every MiB of results (so Node can free the
 * Buffers of earlier calls, as it does between requests). Beside it: Node's crypto one-shot on the
 * same sizes and `openssl speed` (8 KiB blocks, in cache: the ceiling).
 */
async function inMemory() {
  const addon = require(path.resolve(__dirname, '..'))
  const key = crypto.scryptSync(PASSWORD, 'salt', 32)
  addon.encryptBuffer(Buffer.alloc(16), PASSWORD) // derives and caches the key
  const tick = () => new Promise(setImmediate)
  const TOTAL = 256 * MiB
  const sizes = [8 * 1024, 64 * 1024, MiB, 64 * MiB]
  async function rate(size, fn) {
    const calls = Math.max(4, TOTAL / size)
    const every = Math.max(1, MiB / size)
    const xs = []
    for (let r = 0; r < 3; r++) {
      let ns = 0n
      for (let i = 0; i < calls; i++) {
        const t0 = process.hrtime.bigint()
        fn()
        ns += process.hrtime.bigint() - t0
        if (i % every === every - 1) await tick()
      }
      xs.push(mbps(size * calls, Number(ns) / 1e6))
    }
    return median(xs)
  }
  const rows = []
  for (const size of sizes) {
    const buf = crypto.createCipheriv('aes-128-ctr', crypto.randomBytes(16), crypto.randomBytes(16)).update(Buffer.alloc(size))
    const enc = addon.encryptBuffer(buf, PASSWORD)
    if (!addon.decryptBuffer(enc, PASSWORD).equals(buf)) throw new Error('encryptBuffer/decryptBuffer do not round-trip')
    rows.push({
      size,
      enc: await rate(size, () => addon.encryptBuffer(buf, PASSWORD)),
      dec: await rate(size, () => addon.decryptBuffer(enc, PASSWORD)),
      node: await rate(size, () => {
        const c = crypto.createCipheriv('aes-256-gcm', key, crypto.randomBytes(16))
        Buffer.concat([c.update(buf), c.final(), c.getAuthTag()])
      }),
    })
  }
  let openssl = null
  try {
    const out = execFileSync('openssl', ['speed', '-evp', 'aes-256-gcm', '-bytes', '8192', '-seconds', String(OPENSSL_SECONDS)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const m = /^aes-256-gcm\s+([\d.]+)k\s*$/im.exec(out)
    if (m) openssl = { mbps: (Number(m[1]) * 1000) / 1e6, version: execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' ') }
    else openssl = { error: 'could not parse the output of openssl speed' }
  } catch (e) {
    openssl = { error: `openssl not available (${e.code || e.message})` }
  }
  return { rows, openssl }
}

async function main() {
  const addon = require(path.resolve(__dirname, '..'))
  if (typeof addon.encryptFile !== 'function' || typeof addon.encryptBuffer !== 'function') {
    console.error('bench/files.js: this build of the addon has no encryptFile/encryptBuffer (run `npm run build`)')
    process.exit(1)
  }
  const cpus = os.cpus()
  console.log(
    `@axisor/crypto file benchmark — node ${process.version}, ${cpus[0].model.trim()}, ${cpus.length} CPUs, ` +
      `${ROUNDS} rounds, median; files in ${os.tmpdir()}`,
  )
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axisor-bench-files-'))
  let results
  try {
    results = fileRuns(dir)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const mem = await inMemory()

  const gates = []
  const gate = (ok, text) => gates.push([ok, text])
  const med = (e, k) => median(e.runs.map((r) => r[k]))
  const find = (size, impl, op) => results.find((x) => x.size === size && x.impl === impl && x.op === op)

  console.log('\nencryptFile / decryptFile, end to end (read, AES-256-GCM, write; scrypt once per run on both sides):')
  const rows = [['size', 'op', 'addon', 'legacy', 'legacy + fsync', 'addon/legacy', 'peak RSS addon', 'peak RSS legacy', 'RSS legacy/addon', 'addon RSS growth']]
  for (const size of SIZES) {
    for (const op of ['encrypt', 'decrypt']) {
      const a = find(size, 'addon', op)
      const l = find(size, 'legacy', op)
      const aMs = med(a, 'ms')
      const lMs = med(l, 'ms')
      const lfMs = median(l.runs.map((r) => r.ms + r.fsyncMs))
      const aRss = med(a, 'maxRssKiB')
      const lRss = med(l, 'maxRssKiB')
      const growth = median(a.runs.map((r) => r.maxRssKiB - r.rssLoadedKiB))
      const speedRatio = lMs / aMs
      rows.push([
        label(size),
        op,
        `${mbps(size, aMs).toFixed(0)} MB/s (${fmtMs(aMs)})`,
        `${mbps(size, lMs).toFixed(0)} MB/s (${fmtMs(lMs)})`,
        `${mbps(size, lfMs).toFixed(0)} MB/s`,
        `${speedRatio.toFixed(2)}x`,
        fmtMiB(aRss),
        fmtMiB(lRss),
        `${(lRss / aRss).toFixed(1)}x`,
        fmtMiB(growth),
      ])
      gate(speedRatio >= 1.0, `${label(size)} ${op}: addon throughput >= 1.0x legacy (${speedRatio.toFixed(2)}x)`)
      gate(aRss * 8 <= lRss, `${label(size)} ${op}: addon peak RSS <= 1/8 of legacy (${fmtMiB(aRss)} vs ${fmtMiB(lRss)}, 1/${(lRss / aRss).toFixed(1)})`)
      if (size >= 1024 * MiB) gate(growth <= 32 * 1024, `${label(size)} ${op}: addon peak RSS growth <= 32 MiB (${fmtMiB(growth)})`)
    }
  }
  console.log(table(rows))
  console.log(
    'MB = 10^6 bytes of plaintext per second. "legacy + fsync" adds an fsync of the legacy output (not in the gate): the addon\n' +
      'fsyncs its output (and the directory) before the rename, the legacy writeFile leaves it in the page cache.\n' +
      'RSS growth = peak RSS minus the RSS just before the operation (module loaded).',
  )

  console.log('\nEvent-loop delay while the addon encrypts (monitorEventLoopDelay, 1 ms resolution; the floor is ~1 ms):')
  const loopRows = [['size', 'p50', 'p99 (median of runs)', 'p99 (worst run)', 'max (worst run)']]
  for (const size of SIZES) {
    const a = find(size, 'addon', 'encrypt')
    const p99 = med(a, 'p99')
    loopRows.push([label(size), `${med(a, 'p50').toFixed(2)} ms`, `${p99.toFixed(2)} ms`, `${Math.max(...a.runs.map((r) => r.p99)).toFixed(2)} ms`, `${Math.max(...a.runs.map((r) => r.max)).toFixed(2)} ms`])
    if (size === Math.max(...SIZES)) gate(p99 < 10, `event-loop delay p99 < 10 ms while ${label(size)} encrypts (${p99.toFixed(2)} ms)`)
  }
  console.log(table(loopRows))

  const sizeLabel = (n) => (n >= MiB ? `${n / MiB} MiB` : `${n / 1024} KiB`)
  console.log('\nIn-memory AES-256-GCM, one thread, MB/s inside the calls (median of 3 x 256 MiB; the event loop turns after every MiB):')
  const ssl = mem.openssl && mem.openssl.mbps
  const memRows = [['call size', 'encryptBuffer', 'decryptBuffer', 'node crypto one-shot', ...(ssl ? ['encryptBuffer / openssl'] : [])]]
  for (const r of mem.rows) {
    memRows.push([sizeLabel(r.size), r.enc.toFixed(0), r.dec.toFixed(0), r.node.toFixed(0), ...(ssl ? [`${(r.enc / ssl).toFixed(2)}`] : [])])
  }
  console.log(table(memRows))
  if (ssl) {
    console.log(`openssl speed -evp aes-256-gcm -bytes 8192 (${mem.openssl.version}): ${ssl.toFixed(0)} MB/s (8 KiB blocks in cache, no allocation: the ceiling)`)
    const mib = mem.rows.find((r) => r.size === MiB)
    gate(mib.enc / ssl >= 0.7, `encryptBuffer (1 MiB calls) >= 0.7x openssl speed (${(mib.enc / ssl).toFixed(2)}x)`)
  } else {
    console.log(`openssl: ${mem.openssl.error}; no ratio`)
    gate(false, `encryptBuffer vs openssl: not measured (${mem.openssl.error})`)
  }

  console.log('\nGates (issue 4):')
  for (const [ok, text] of gates) console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${text}`)
  const failed = gates.filter(([ok]) => !ok).length
  console.log(failed ? `${failed} gate(s) FAILED (exit code stays 0)` : 'all gates pass')
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3])).catch((e) => {
    console.error(e && e.stack ? e.stack : e)
    process.exit(1)
  })
} else {
  main().catch((e) => {
    console.error(e && e.stack ? e.stack : e)
    process.exit(1)
  })
}
