#!/usr/bin/env node
'use strict';
/**
 * Runs every vector of ../shared/vectors/legacy-compat.json against the
 * legacy port (legacy/legacy.js) and prints `N passed, M failed`.
 *
 *   node legacy/verify-vectors.js [path/to/legacy-compat.json] [--verbose]
 *
 * Rules:
 *   - encrypt vectors: the vector's IV / nonce is injected as the random bytes,
 *   - `error` vectors: the legacy call must throw (message/code are compared
 *     too, but only reported as informational notes),
 *   - `deviation` vectors: the legacy port must return `legacyResult`,
 *   - xchacha decrypt vectors use decryptIntended (the seed's decrypt always
 *     throws; that is checked as an extra assertion),
 *   - file vectors go through real temp files.
 */

const fs = require('fs');
const fsp = require('fs/promises');
const os = require('os');
const path = require('path');
const { isDeepStrictEqual } = require('util');
const legacy = require('./legacy');

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const vectorsPath =
  args.find((a) => !a.startsWith('--')) ||
  [
    path.resolve(__dirname, '../../shared/vectors/legacy-compat.json'),
    '/work/shared/vectors/legacy-compat.json',
  ].find((p) => fs.existsSync(p));

if (!vectorsPath || !fs.existsSync(vectorsPath)) {
  console.error('legacy-compat.json not found; pass its path as the first argument');
  process.exit(2);
}

const { vectors } = JSON.parse(fs.readFileSync(vectorsPath, 'utf8'));

const TESTNET_KEYS = new Set(['isTestnet', 'testnet']);

function label(v, i) {
  return `#${i} ${v.suite}/${v.op}${v.name ? ` (${v.name})` : ''}`;
}

// Outcome of a call: { ok: true, value } or { ok: false, error }.
async function outcome(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

let tmpDir;
async function tmpFile(name, buf) {
  if (!tmpDir) tmpDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'legacy-vectors-'));
  const p = path.join(tmpDir, name);
  if (buf) await fsp.writeFile(p, buf);
  return p;
}

let fileCounter = 0;

/** Runs one vector; returns { actual: outcome, notes: [] }, expected judged by caller. */
async function run(v) {
  const notes = [];
  switch (`${v.suite}/${v.op}`) {
    case 'cbc/encryptData': {
      const svc = legacy.createAuthService({
        encryptionKey: v.key,
        randomBytes: legacy.createQueuedRandomBytes([v.ivHex]),
      });
      return { actual: await outcome(() => svc.encryptData(v.input)), notes };
    }
    case 'cbc/decryptData': {
      const svc = legacy.createAuthService({ encryptionKey: v.key });
      const actual = await outcome(() => svc.decryptData(v.input));
      if (actual.ok && v.plaintextHex !== undefined) {
        // the plaintext bytes decoded the way Node does must give `expected`
        const viaBuffer = Buffer.from(v.plaintextHex, 'hex').toString('utf8');
        if (viaBuffer !== actual.value) notes.push('plaintextHex decodes differently via Buffer#toString');
      }
      return { actual, notes };
    }
    case 'secureStorage/encryptCredentials': {
      if (JSON.stringify(v.input) !== v.json) notes.push('JSON.stringify(input) !== json');
      const svc = legacy.createSecureStorageService({
        encryptionKey: v.key,
        randomBytes: legacy.createQueuedRandomBytes([v.ivHex]),
      });
      const actual = await outcome(() => svc.encryptCredentials(v.input));
      // extra: the raw-string helper gives the same blob for the JSON text
      const svc2 = legacy.createSecureStorageService({
        encryptionKey: v.key,
        randomBytes: legacy.createQueuedRandomBytes([v.ivHex]),
      });
      const raw = await outcome(() => svc2.encryptSecureString(v.json));
      if (!raw.ok || !actual.ok || raw.value !== actual.value) notes.push('EXTRA-FAIL encryptSecureString differs');
      return { actual, notes };
    }
    case 'secureStorage/decryptCredentials': {
      const svc = legacy.createSecureStorageService({ encryptionKey: v.key });
      return { actual: await outcome(() => svc.decryptCredentials(v.input)), notes };
    }
    case 'credentialMap/encode': {
      // IVs: the hex before ':' of each encrypted field, in input order.
      const ivs = [];
      for (const [k, val] of Object.entries(v.input)) {
        if (TESTNET_KEYS.has(k)) continue;
        if (val && val.trim() !== '') ivs.push(v.expected[k].split(':')[0]);
      }
      const svc = legacy.createUserExchangeAccountService({
        encryptionKey: v.key,
        randomBytes: legacy.createQueuedRandomBytes(ivs),
      });
      return { actual: await outcome(() => svc.encodeCredentials(v.input)), notes };
    }
    case 'credentialMap/decode': {
      const svc = legacy.createUserExchangeAccountService({ encryptionKey: v.key });
      return { actual: await outcome(() => svc.decryptCredentials(v.input)), notes };
    }
    case 'file/encryptFile': {
      const n = fileCounter++;
      const svc = legacy.createFileEncryptionService({
        fileEncryptionKey: v.key,
        randomBytes: legacy.createQueuedRandomBytes([v.ivHex]),
      });
      const inPath = await tmpFile(`enc-${n}.in`, Buffer.from(v.plaintextHex, 'hex'));
      const outPath = await tmpFile(`enc-${n}.out`);
      const actual = await outcome(async () => {
        await svc.encryptFile(inPath, outPath);
        return (await fsp.readFile(outPath)).toString('hex');
      });
      // extra: decrypt back, and the in-place variants
      const back = await outcome(async () => {
        const p = await tmpFile(`enc-${n}.back`);
        await svc.decryptFile(outPath, p);
        return (await fsp.readFile(p)).toString('hex');
      });
      if (!back.ok || back.value !== v.plaintextHex) notes.push('EXTRA-FAIL decryptFile round trip');
      const inPlace = await outcome(async () => {
        const svc2 = legacy.createFileEncryptionService({
          fileEncryptionKey: v.key,
          randomBytes: legacy.createQueuedRandomBytes([v.ivHex]),
        });
        const p = await tmpFile(`enc-${n}.inplace`, Buffer.from(v.plaintextHex, 'hex'));
        await svc2.encryptFileInPlace(p);
        const enc = (await fsp.readFile(p)).toString('hex');
        await svc2.decryptFileInPlace(p);
        const dec = (await fsp.readFile(p)).toString('hex');
        return enc === v.expectedHex && dec === v.plaintextHex && !fs.existsSync(p + '.tmp');
      });
      if (!inPlace.ok || inPlace.value !== true) notes.push('EXTRA-FAIL in-place round trip');
      return { actual, notes };
    }
    case 'file/decryptFile': {
      const n = fileCounter++;
      const svc = legacy.createFileEncryptionService({ fileEncryptionKey: v.key });
      const inPath = await tmpFile(`dec-${n}.in`, Buffer.from(v.inputHex, 'hex'));
      const outPath = await tmpFile(`dec-${n}.out`);
      const actual = await outcome(async () => {
        await svc.decryptFile(inPath, outPath);
        return (await fsp.readFile(outPath)).toString('hex');
      });
      if (!actual.ok && fs.existsSync(outPath)) notes.push('EXTRA-FAIL output written despite failure');
      return { actual, notes };
    }
    case 'xchacha/encrypt': {
      // The nonce is also an OUTPUT of encrypt (expected.nonce = base64url of
      // the injected nonce). If the vector's nonceHex disagrees with it, the
      // vector is internally inconsistent: say so loudly and inject the nonce
      // the expected output was actually produced with.
      let nonceHex = v.nonceHex;
      const recorded = v.expected && v.expected.nonce && Buffer.from(v.expected.nonce, 'base64url').toString('hex');
      if (recorded && recorded !== nonceHex.toLowerCase()) {
        notes.push(`VECTOR-DEFECT nonceHex ${nonceHex} != base64url-decoded expected.nonce ${recorded}; injected the latter`);
        nonceHex = recorded;
      }
      const svc = legacy.createAdvancedCryptoService({
        masterKeyHex: v.masterKeyHex,
        randombytesBuf: legacy.createQueuedRandomBytes([nonceHex]),
      });
      await svc.initialize();
      const actual = await outcome(() => svc.encrypt(v.input));
      // extra: decryptIntended reads it back, the seed's decrypt throws
      if (actual.ok) {
        const back = await outcome(() => svc.decryptIntended(actual.value));
        if (!back.ok || back.value !== v.input) notes.push('EXTRA-FAIL decryptIntended round trip');
        const seed = await outcome(() => svc.decrypt(actual.value));
        if (seed.ok) notes.push('EXTRA-FAIL seed decrypt did not throw');
      }
      return { actual, notes };
    }
    case 'xchacha/decrypt': {
      const svc = legacy.createAdvancedCryptoService({ masterKeyHex: v.masterKeyHex });
      await svc.initialize();
      const seedDecrypt = await outcome(() => svc.decrypt(v.input));
      if (seedDecrypt.ok || seedDecrypt.error.message !== 'Decryption failed') {
        notes.push('EXTRA-FAIL seed decrypt did not throw Decryption failed');
      }
      return { actual: await outcome(() => svc.decryptIntended(v.input)), notes };
    }
    case 'argon2id/deriveKeyFromPassword': {
      const svc = legacy.createAdvancedCryptoService({});
      await svc.initialize();
      return { actual: await outcome(() => svc.deriveKeyFromPassword(v.password, v.saltB64)), notes };
    }
    default:
      throw new Error(`unknown vector kind ${v.suite}/${v.op}`);
  }
}

function expectedOf(v) {
  if (v.deviation) return { ok: true, value: v.legacyResult };
  if (v.error !== undefined) return { ok: false, message: v.error, code: v.errorCode };
  if (v.expectedHex !== undefined) return { ok: true, value: v.expectedHex };
  return { ok: true, value: v.expected };
}

(async () => {
  let passed = 0;
  let failed = 0;
  let extraFailed = 0;
  const info = [];
  const bySuite = {};

  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i];
    const exp = expectedOf(v);
    let res;
    try {
      res = await run(v);
    } catch (e) {
      res = { actual: { ok: false, error: e }, notes: [`harness error: ${e.message}`] };
    }
    const { actual, notes } = res;
    let good;
    if (exp.ok) {
      good = actual.ok && isDeepStrictEqual(actual.value, exp.value);
    } else {
      good = !actual.ok;
      if (good) {
        if (actual.error.message !== exp.message) {
          info.push(`${label(v, i)}: message differs: got ${JSON.stringify(actual.error.message)}`);
        }
        if (exp.code != null && actual.error.code !== exp.code) {
          info.push(`${label(v, i)}: code differs: got ${actual.error.code}`);
        }
      }
    }
    const extra = notes.filter((n) => n.startsWith('EXTRA-FAIL') || n.startsWith('harness'));
    for (const n of notes) if (!extra.includes(n)) info.push(`${label(v, i)}: ${n}`);
    if (extra.length) extraFailed += extra.length;

    const s = (bySuite[`${v.suite}/${v.op}`] ||= { passed: 0, failed: 0 });
    if (good && extra.length === 0) {
      passed++;
      s.passed++;
      if (verbose) console.log(`ok   ${label(v, i)}`);
    } else {
      failed++;
      s.failed++;
      const why = good
        ? extra.join('; ')
        : exp.ok
          ? actual.ok
            ? 'wrong result'
            : `threw ${actual.error && actual.error.message}`
          : 'expected a throw, got a result';
      console.log(`FAIL ${label(v, i)}: ${why}`);
    }
  }

  if (tmpDir) await fsp.rm(tmpDir, { recursive: true, force: true });

  for (const [k, s] of Object.entries(bySuite)) {
    console.log(`  ${k.padEnd(34)} ${String(s.passed).padStart(4)} passed ${String(s.failed).padStart(3)} failed`);
  }
  if (info.length) {
    console.log(`notes (${info.length}, informational):`);
    for (const n of info) console.log(`  ${n}`);
  }
  const defects = info.filter((n) => n.includes('VECTOR-DEFECT'));
  if (defects.length) console.log(`(${defects.length} vector(s) with an inconsistent input field, see notes)`);
  if (extraFailed) console.log(`(${extraFailed} extra assertion(s) failed)`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
