#!/usr/bin/env node
'use strict';
/**
 * Migration check (`npm start`): proves the native addon can take over the
 * data the legacy backend wrote, and that the legacy backend can still read
 * what the addon writes.
 *
 *   node examples/migration-check.js [--data path] [--legacy-sample N|all]
 *                                    [--faithful-readback] [--jobs N]
 *
 * The legacy code runs scrypt on every value (~50 ms), so by default the
 * legacy decrypt is timed on 100 evenly spaced rows per kind and extrapolated
 * (marked *); `--legacy-sample all` times every row (several minutes). The
 * legacy read-back of step 2 covers every row, on --jobs worker threads, with
 * scrypt memoized (a pure function: same bytes, same errors, see
 * legacy/memoize-scrypt.js); `--faithful-readback` runs it unmemoized.
 *
 *   1. decrypts every value of examples/data/legacy-export.json with the addon
 *      (sync, then again with the ...Async twins) and compares it with the
 *      recorded plaintext (what the legacy decrypt returns); the legacy port
 *      decrypts everything too, for the timing comparison;
 *   2. re-encrypts every plaintext under the NEW keys with the addon and has
 *      the legacy port, configured with the new keys, read it back;
 *   3. prints a summary; exits 1 if anything failed (2 if it could not run).
 *
 * Never prints plaintexts or keys: failures are reported by row id, field
 * name, tag and a redacted reason.
 *
 * The addon is `require('..')` (the package root); AXISOR_CRYPTO_ADDON=path
 * loads another build instead.
 */

const { isMainThread, Worker, parentPort, workerData } = require('worker_threads');
// Must precede the legacy port's require: it captures crypto.scrypt when loaded.
if (!isMainThread && !workerData.faithful) require('../legacy/memoize-scrypt').install();
const fs = require('fs');
const os = require('os');
const path = require('path');
const legacy = require('../legacy/legacy');

const TESTNET_KEYS = new Set(['isTestnet', 'testnet']);
const KINDS = ['user_exchange_accounts', 'secure_storage', 'auth_strings'];

// ---------------------------------------------------------------------------
// Comparison (no values in the output, only shapes)
// ---------------------------------------------------------------------------

function typeOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** null if equal (same keys in the same order, same values), else a reason without values. */
function diff(actual, expected, where = '') {
  const ta = typeOf(actual);
  const te = typeOf(expected);
  const at = where ? ` at ${where}` : '';
  if (ta !== te) return `type differs${at} (${ta} vs expected ${te})`;
  if (te === 'string') {
    if (actual === expected) return null;
    let i = 0;
    while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
    return `string differs${at} (length ${actual.length} vs ${expected.length}, first difference at index ${i})`;
  }
  if (te === 'number' || te === 'boolean' || te === 'null' || te === 'undefined') {
    return Object.is(actual, expected) ? null : `${te} differs${at}`;
  }
  if (te === 'array') {
    if (actual.length !== expected.length) return `array length differs${at} (${actual.length} vs ${expected.length})`;
    for (let i = 0; i < expected.length; i++) {
      const d = diff(actual[i], expected[i], `${where}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (te === 'object') {
    const ka = Object.keys(actual);
    const ke = Object.keys(expected);
    const missing = ke.filter((k) => !Object.prototype.hasOwnProperty.call(actual, k));
    const extra = ka.filter((k) => !Object.prototype.hasOwnProperty.call(expected, k));
    if (missing.length) return `missing key(s)${at}: ${missing.map(safeKey).join(', ')}`;
    if (extra.length) return `unexpected key(s)${at}: ${extra.map(safeKey).join(', ')}`;
    for (const k of ke) {
      const d = diff(actual[k], expected[k], where ? `${where}.${safeKey(k)}` : safeKey(k));
      if (d) return d;
    }
    if (ka.join('\u0000') !== ke.join('\u0000')) return `key order differs${at}`;
    if (Object.getPrototypeOf(actual) !== Object.prototype && Object.getPrototypeOf(actual) !== null) {
      return `object has an unexpected prototype${at}`;
    }
    return null;
  }
  return `unsupported value type ${te}${at}`;
}

// Field names are not secret, but keep them printable and short.
function safeKey(k) {
  const s = JSON.stringify(k);
  return s.length > 40 ? `${s.slice(0, 37)}…"` : s;
}

/** An error reason that cannot leak data: quoted parts and long tokens are redacted. */
function errorReason(e) {
  if (!e || typeof e !== 'object') return `threw ${typeOf(e)}`;
  const first = String(e.message || '').split('\n')[0];
  const redacted = first
    .replace(/(["'`«])(?:(?!\1).)*\1/g, '<…>')
    .replace(/[0-9a-fA-F]{16,}/g, '<hex>')
    .replace(/[A-Za-z0-9+/_=-]{33,}/g, '<…>')
    .slice(0, 120);
  return `threw ${e.code ? `${e.code} ` : ''}${e.name || 'Error'}: ${redacted}`;
}

// ---------------------------------------------------------------------------
// Worker: legacy read-back of what the addon wrote (new keys)
// ---------------------------------------------------------------------------

function workerMain() {
  const { keys } = workerData;
  const uea = legacy.createUserExchangeAccountService({ encryptionKey: keys.newEncryptionKey });
  const ss = legacy.createSecureStorageService({ encryptionKey: keys.newSecureStorageKeyHex });
  const auth = legacy.createAuthService({ encryptionKey: keys.newEncryptionKey });

  parentPort.on('message', async ({ id, items }) => {
    const out = [];
    for (const it of items) {
      let reason = null;
      try {
        const expected = JSON.parse(it.expectedJson);
        let got;
        if (it.kind === 'user_exchange_accounts') got = uea.decryptCredentials(JSON.parse(it.storedJson));
        else if (it.kind === 'secure_storage') got = await ss.decryptCredentials(it.stored);
        else got = auth.decryptData(it.stored);
        reason = diff(got, expected);
      } catch (e) {
        reason = `legacy read-back ${errorReason(e)}`;
      }
      out.push({ kind: it.kind, index: it.index, reason });
    }
    parentPort.postMessage({ id, out });
  });
}

function runReadBack(items, nWorkers, keys, faithful, onProgress) {
  const chunkSize = 16;
  const chunks = [];
  for (let i = 0; i < items.length; i += chunkSize) chunks.push(items.slice(i, i + chunkSize));
  return new Promise((resolve, reject) => {
    const results = [];
    let next = 0;
    let done = 0;
    const workers = [];
    const finish = (err) => {
      workers.forEach((w) => w.terminate());
      if (err) reject(err);
      else resolve(results);
    };
    const feed = (w) => {
      if (next < chunks.length) {
        const id = next++;
        w.postMessage({ id, items: chunks[id] });
      }
    };
    if (chunks.length === 0) return resolve(results);
    for (let i = 0; i < Math.min(nWorkers, chunks.length); i++) {
      const w = new Worker(__filename, { workerData: { keys, faithful } });
      w.on('message', ({ out }) => {
        results.push(...out);
        done++;
        if (onProgress) onProgress(results.length, items.length);
        if (done === chunks.length) finish();
        else feed(w);
      });
      w.on('error', finish);
      workers.push(w);
    }
    workers.forEach(feed);
  });
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    o[m[1]] = m[2] !== undefined ? m[2] : argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : true;
  }
  return o;
}

const now = () => process.hrtime.bigint();
const ms = (ns) => Number(ns) / 1e6;
const fmtMs = (x) => (x == null ? '-' : x < 10 ? x.toFixed(2) : x < 1000 ? x.toFixed(1) : x.toFixed(0));
const progress = (msg) => process.stderr.write(`  … ${msg}\n`);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const dataPath = path.resolve(args.data || path.join(__dirname, 'data', 'legacy-export.json'));
  // --legacy-sample N: time the legacy decrypt on N evenly spaced rows per kind and extrapolate
  const sampleArg = args['legacy-sample'] === undefined ? '100' : String(args['legacy-sample']);
  if (sampleArg !== 'all' && !(Number.isInteger(Number(sampleArg)) && Number(sampleArg) > 0)) {
    console.error(`--legacy-sample must be a positive whole number or 'all' (got ${JSON.stringify(sampleArg)})`);
    process.exit(2);
  }
  const legacySample = sampleArg === 'all' ? Infinity : Number(sampleArg);
  const faithful = Boolean(args['faithful-readback']);
  const nWorkers = Number(args.jobs) || Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length);

  // ---- load ---------------------------------------------------------------
  const addonPath = process.env.AXISOR_CRYPTO_ADDON ? path.resolve(process.env.AXISOR_CRYPTO_ADDON) : path.join(__dirname, '..');
  let addon;
  try {
    addon = require(addonPath);
  } catch (e) {
    console.error(`cannot load the native addon from ${addonPath}: ${errorReason(e)}`);
    console.error('build it first: npm run build');
    process.exit(2);
  }
  if (!fs.existsSync(dataPath)) {
    console.error(`${dataPath} not found: run npm run gen:legacy-data`);
    process.exit(2);
  }
  const data = JSON.parse(fs.readFileSync(dataPath, 'utf8'));
  const K = data.meta && data.meta.keys;
  if (!K || !K.encryptionKey || !K.secureStorageKeyHex || !K.newEncryptionKey || !K.newSecureStorageKeyHex) {
    console.error('export has no meta.keys: regenerate it with npm run gen:legacy-data');
    process.exit(2);
  }

  const fn = (name) => (typeof addon[name] === 'function' ? addon[name].bind(addon) : null);
  const missingFn = (name) => () => {
    const e = new Error(`addon does not export ${name}()`);
    e.name = 'MissingExport';
    throw e;
  };
  const api = new Proxy({}, { get: (_, name) => fn(name) || missingFn(name) });
  const clearKeyCache = () => (fn('clearKeyCache') ? addon.clearKeyCache() : undefined);

  const legacyOld = {
    uea: legacy.createUserExchangeAccountService({ encryptionKey: K.encryptionKey }),
    ss: legacy.createSecureStorageService({ encryptionKey: K.secureStorageKeyHex }),
    auth: legacy.createAuthService({ encryptionKey: K.encryptionKey }),
  };

  const kinds = {
    user_exchange_accounts: {
      rows: data.user_exchange_accounts || [],
      expected: (r) => r.plaintext,
      expectedAfterMigration: (r) => (r.migrated_plaintext !== undefined ? r.migrated_plaintext : r.plaintext),
      nativeDecrypt: (r) => api.decodeCredentialMap(r.credentials, K.encryptionKey),
      nativeDecryptAsync: (r) => api.decodeCredentialMapAsync(r.credentials, K.encryptionKey),
      legacyDecrypt: (r) => legacyOld.uea.decryptCredentials(r.credentials),
      nativeEncryptNew: (pt) => api.encodeCredentialMap(pt, K.newEncryptionKey),
      checkFormat(stored) {
        if (typeOf(stored) !== 'object') return `encodeCredentialMap returned ${typeOf(stored)}`;
        for (const [k, v] of Object.entries(stored)) {
          if (TESTNET_KEYS.has(k)) continue;
          if (typeof v !== 'string' || !/^[0-9a-f]{32}:(?:[0-9a-f]{32})+$/.test(v)) return `field ${safeKey(k)} is not lowercase hex(iv16):hex(ct)`;
        }
        return null;
      },
      ivs: (stored) => Object.entries(stored).filter(([k]) => !TESTNET_KEYS.has(k)).map(([, v]) => String(v).slice(0, 32)),
    },
    secure_storage: {
      rows: data.secure_storage || [],
      expected: (r) => r.plaintext,
      expectedAfterMigration: (r) => r.plaintext,
      nativeDecrypt: (r) => api.decryptCredentials(r.encrypted, K.secureStorageKeyHex),
      nativeDecryptAsync: (r) => api.decryptCredentialsAsync(r.encrypted, K.secureStorageKeyHex),
      legacyDecrypt: (r) => legacyOld.ss.decryptCredentials(r.encrypted),
      nativeEncryptNew: (pt) => api.encryptCredentials(pt, K.newSecureStorageKeyHex),
      checkFormat: (stored) =>
        typeof stored === 'string' && /^[0-9a-f]{32}:[0-9a-f]{32}:[0-9a-f]*$/.test(stored) ? null : 'not lowercase hex(iv16):hex(tag16):hex(ct)',
      ivs: (stored) => [stored.slice(0, 32)],
    },
    auth_strings: {
      rows: data.auth_strings || [],
      expected: (r) => r.plaintext,
      expectedAfterMigration: (r) => r.plaintext,
      nativeDecrypt: (r) => api.decryptData(r.encrypted, K.encryptionKey),
      nativeDecryptAsync: (r) => api.decryptDataAsync(r.encrypted, K.encryptionKey),
      legacyDecrypt: (r) => legacyOld.auth.decryptData(r.encrypted),
      nativeEncryptNew: (pt) => api.encryptData(pt, K.newEncryptionKey),
      checkFormat: (stored) =>
        typeof stored === 'string' && /^[0-9a-f]{32}:(?:[0-9a-f]{32})+$/.test(stored) ? null : 'not lowercase hex(iv16):hex(ct)',
      ivs: (stored) => [stored.slice(0, 32)],
    },
  };

  // failures[kind] : Map(rowIndex -> [{ phase, reason }])
  const failures = Object.fromEntries(KINDS.map((k) => [k, new Map()]));
  const fail = (kind, index, phase, reason) => {
    const m = failures[kind];
    if (!m.has(index)) m.set(index, []);
    m.get(index).push({ phase, reason });
  };
  const stats = Object.fromEntries(KINDS.map((k) => [k, {}]));

  console.log(`@axisor/crypto migration check: ${path.relative(process.cwd(), dataPath) || dataPath}`);
  console.log(`addon: ${process.env.AXISOR_CRYPTO_ADDON ? `${addonPath} (AXISOR_CRYPTO_ADDON)` : 'this checkout'}`);
  console.log(
    `rows: ${KINDS.map((k) => `${kinds[k].rows.length} ${k}`).join(', ')}` +
      ` (${data.meta.counts ? data.meta.counts.user_exchange_account_fields : '?'} stored credential fields)\n`
  );

  // ---- 1a. native decrypt, sync (timed) -----------------------------------
  for (const kind of KINDS) {
    const k = kinds[kind];
    clearKeyCache(); // include the key derivation in the timing
    const outs = new Array(k.rows.length);
    let total = 0n;
    for (let i = 0; i < k.rows.length; i++) {
      const t = now();
      try {
        outs[i] = { ok: true, value: k.nativeDecrypt(k.rows[i]) };
      } catch (e) {
        outs[i] = { ok: false, error: e };
      }
      total += now() - t;
    }
    stats[kind].nativeMs = ms(total);
    outs.forEach((o, i) => {
      const reason = o.ok ? diff(o.value, k.expected(k.rows[i])) : errorReason(o.error);
      if (reason) fail(kind, i, 'native decrypt', reason);
    });
  }

  // ---- 1b. native decrypt, async twins (wall clock, batches of 256) --------
  for (const kind of KINDS) {
    const k = kinds[kind];
    clearKeyCache();
    const t = now();
    const outs = [];
    for (let i = 0; i < k.rows.length; i += 256) {
      const batch = k.rows.slice(i, i + 256).map((r) =>
        Promise.resolve()
          .then(() => k.nativeDecryptAsync(r))
          .then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }))
      );
      outs.push(...(await Promise.all(batch)));
    }
    stats[kind].nativeAsyncMs = ms(now() - t);
    outs.forEach((o, i) => {
      const reason = o.ok ? diff(o.value, k.expected(k.rows[i])) : errorReason(o.error);
      if (reason) fail(kind, i, 'native async decrypt', reason);
    });
  }

  // ---- 1c. legacy decrypt (timed; scrypt per field / per call) -------------
  for (const kind of KINDS) {
    const k = kinds[kind];
    const len = k.rows.length;
    const n = Math.min(len, legacySample);
    // evenly spaced rows when sampling
    const indices = Array.from({ length: n }, (_, j) => (n === len ? j : Math.floor((j * len) / n)));
    progress(`legacy decrypt of ${n} ${kind} rows (the legacy code runs scrypt per value; this is the slow part)`);
    let total = 0n;
    let first = null;
    for (const i of indices) {
      const t = now();
      let o;
      try {
        o = { ok: true, value: await k.legacyDecrypt(k.rows[i]) };
      } catch (e) {
        o = { ok: false, error: e };
      }
      const dt = now() - t;
      total += dt;
      if (first === null) first = dt; // AuthService derives its cached key here
      const reason = o.ok ? diff(o.value, k.expected(k.rows[i])) : errorReason(o.error);
      if (reason) fail(kind, i, 'legacy decrypt (export does not match the legacy code)', reason);
    }
    stats[kind].legacyRows = n;
    stats[kind].legacyMs = ms(total);
    stats[kind].legacyFirstMs = first === null ? 0 : ms(first);
  }

  // ---- 2a. native re-encrypt under the new keys ----------------------------
  const readBackItems = [];
  const seenIvs = new Map();
  for (const kind of KINDS) {
    const k = kinds[kind];
    clearKeyCache();
    let total = 0n;
    for (let i = 0; i < k.rows.length; i++) {
      const r = k.rows[i];
      let stored;
      const t = now();
      try {
        stored = k.nativeEncryptNew(k.expected(r));
      } catch (e) {
        total += now() - t;
        fail(kind, i, 'native re-encrypt', errorReason(e));
        continue;
      }
      total += now() - t;
      const bad = k.checkFormat(stored);
      if (bad) {
        fail(kind, i, 'native re-encrypt', bad);
        continue;
      }
      for (const iv of k.ivs(stored)) {
        if (seenIvs.has(iv)) fail(kind, i, 'native re-encrypt', `IV reused (also used by ${seenIvs.get(iv)})`);
        else seenIvs.set(iv, `${kind} row ${r.id}`);
      }
      readBackItems.push({
        kind,
        index: i,
        // credential maps go through JSON like the database column would
        storedJson: kind === 'user_exchange_accounts' ? JSON.stringify(stored) : undefined,
        stored: kind === 'user_exchange_accounts' ? undefined : stored,
        expectedJson: JSON.stringify(k.expectedAfterMigration(r)),
      });
    }
    stats[kind].reencryptMs = ms(total);
  }

  // ---- 2b. legacy (new keys) reads back what the addon wrote ---------------
  progress(`legacy read-back of ${readBackItems.length} re-encrypted rows on ${nWorkers} worker(s)`);
  let lastPct = -1;
  const readBack = await runReadBack(readBackItems, nWorkers, K, faithful, (done, total) => {
    const pct = Math.floor((done * 100) / total / 25) * 25;
    if (pct !== lastPct && pct < 100) {
      lastPct = pct;
      progress(`read-back ${done}/${total}`);
    }
  });
  for (const kind of KINDS) stats[kind].readBack = 0;
  for (const res of readBack) {
    stats[res.kind].readBack++;
    if (res.reason) fail(res.kind, res.index, 'legacy read-back (new keys)', res.reason);
  }

  // ---- report ---------------------------------------------------------------
  const header = ['kind', 'rows', 'ok', 'failed', 'native ms', 'native async ms', 'legacy ms', 'legacy/native'];
  const table = [];
  let totalFailed = 0;
  const tot = { rows: 0, ok: 0, failed: 0, nativeMs: 0, nativeAsyncMs: 0, legacyMs: 0, legacyExtrapolated: false };
  for (const kind of KINDS) {
    const k = kinds[kind];
    const s = stats[kind];
    const rows = k.rows.length;
    const failed = failures[kind].size;
    totalFailed += failed;
    const sampled = s.legacyRows < rows;
    // extrapolate from a sample: the first call (one-off key derivation) + mean of the others
    const legacyFull = !sampled
      ? s.legacyMs
      : s.legacyRows > 1
        ? s.legacyFirstMs + ((s.legacyMs - s.legacyFirstMs) / (s.legacyRows - 1)) * (rows - 1)
        : s.legacyRows
          ? s.legacyMs * rows
          : 0;
    tot.rows += rows;
    tot.ok += rows - failed;
    tot.failed += failed;
    tot.nativeMs += s.nativeMs;
    tot.nativeAsyncMs += s.nativeAsyncMs;
    tot.legacyMs += legacyFull;
    tot.legacyExtrapolated ||= sampled;
    table.push([
      kind,
      String(rows),
      String(rows - failed),
      String(failed),
      fmtMs(s.nativeMs),
      fmtMs(s.nativeAsyncMs),
      `${fmtMs(legacyFull)}${sampled ? '*' : ''}`,
      s.nativeMs > 0 && legacyFull > 0 ? `${(legacyFull / s.nativeMs).toFixed(1)}x` : '-',
    ]);
  }
  table.push([
    'total',
    String(tot.rows),
    String(tot.ok),
    String(tot.failed),
    fmtMs(tot.nativeMs),
    fmtMs(tot.nativeAsyncMs),
    `${fmtMs(tot.legacyMs)}${tot.legacyExtrapolated ? '*' : ''}`,
    tot.nativeMs > 0 ? `${(tot.legacyMs / tot.nativeMs).toFixed(1)}x` : '-',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((r) => r[c].length)));
  const line = (cells) => cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  table.forEach((r, i) => {
    if (i === table.length - 1) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    console.log(line(r));
  });
  console.log(
    '\ndecrypt pass, one value at a time, key caches cleared first. native = addon sync API; native async = the ...Async twins,' +
      ' 256 in flight; legacy = the legacy port (scrypt per call / per credential field).' +
      (tot.legacyExtrapolated ? `\n* legacy time measured on ${legacySample} evenly spaced rows of each kind and extrapolated.` : '')
  );
  console.log(
    `re-encrypt under the new keys (addon): ${KINDS.map((k) => `${k} ${fmtMs(stats[k].reencryptMs)} ms`).join(', ')}; ` +
      `read back by the legacy port: ${KINDS.map((k) => `${stats[k].readBack}`).join(' / ')} rows` +
      (faithful ? '.' : ' (scrypt memoized: same bytes, faster; --faithful-readback to run it per call).')
  );

  if (totalFailed) {
    console.log(`\nFAILED: ${totalFailed} row(s). By kind, phase and reason (row ids, tags; no values):`);
    for (const kind of KINDS) {
      const groups = new Map();
      for (const [index, list] of failures[kind]) {
        const row = kinds[kind].rows[index];
        for (const { phase, reason } of list) {
          const key = `${phase}: ${reason}`;
          if (!groups.has(key)) groups.set(key, new Set());
          groups.get(key).add(row);
        }
      }
      const sorted = [...groups.entries()].map(([key, set]) => [key, [...set]]).sort((a, b) => b[1].length - a[1].length);
      for (const [key, rows] of sorted.slice(0, 25)) {
        const tags = [...new Set(rows.flatMap((r) => r.tags || []))];
        const ids = rows.slice(0, 3).map((r) => r.id).join(', ');
        console.log(
          `  ${kind} | ${key} | ${rows.length} row(s), e.g. ${ids}${rows.length > 3 ? ', …' : ''}` +
            `${tags.length ? ` | tags: ${tags.join(', ')}` : ''}`
        );
      }
      if (sorted.length > 25) console.log(`  ${kind} | … ${sorted.length - 25} more reason(s)`);
    }
    process.exitCode = 1;
  } else {
    console.log('\nOK: every legacy value decrypts identically with the addon, and the legacy code reads everything the addon re-encrypted.');
  }
}

if (isMainThread) {
  main().catch((e) => {
    console.error(`migration check crashed: ${errorReason(e)}`);
    if (process.env.DEBUG) console.error(e);
    process.exit(2);
  });
} else {
  workerMain();
}
