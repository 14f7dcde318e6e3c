#!/usr/bin/env node
'use strict';
/**
 * Generates examples/data/legacy-export.json: a realistic, deterministic
 * export of data written BY THE LEGACY CODE (legacy/legacy.js, the port of
 * the seed TypeScript), for the migration check and benchmarks.
 *
 *   node scripts/gen-legacy-data.js [--out path] [--seed s] [--jobs n]
 *
 * Everything (content, IVs, keys) derives from the seed, so re-running gives a
 * byte-identical file regardless of --jobs. Encryption and decryption run in
 * worker threads because the legacy code calls scrypt (~40 ms) per field.
 *
 * For every encrypted value the file records `plaintext`: what the LEGACY
 * decrypt returns for it (computed by running the legacy port, and
 * cross-checked against an independent model of the seed's behaviour).
 */

const { isMainThread, Worker, parentPort, workerData } = require('worker_threads');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const legacy = require('../legacy/legacy');

const TESTNET_KEYS = new Set(['isTestnet', 'testnet']);

// ---------------------------------------------------------------------------
// Worker: runs the legacy port
// ---------------------------------------------------------------------------

function workerMain() {
  const { seed, keys } = workerData;
  const ivStream = (kind, index) => legacy.createSeededRandomBytes(`${seed}/iv/${kind}/${index}`);
  const decoderOld = legacy.createUserExchangeAccountService({ encryptionKey: keys.encryptionKey });
  const decoderNew = legacy.createUserExchangeAccountService({ encryptionKey: keys.newEncryptionKey });
  const authOld = legacy.createAuthService({ encryptionKey: keys.encryptionKey });
  const ssOld = legacy.createSecureStorageService({ encryptionKey: keys.secureStorageKeyHex });

  parentPort.on('message', async (job) => {
    try {
      let result;
      if (job.kind === 'credentials') {
        const encoder = legacy.createUserExchangeAccountService({
          // undefined key => scryptSync throws inside the seed's try => plaintext fallback
          encryptionKey: job.fallback ? undefined : keys.encryptionKey,
          randomBytes: ivStream('uea', job.index),
        });
        const credentials = encoder.encodeCredentials(job.input);
        const plaintext = decoderOld.decryptCredentials(credentials);
        let roundTrip;
        if (job.checkRoundTrip) {
          const enc2 = legacy.createUserExchangeAccountService({
            encryptionKey: keys.newEncryptionKey,
            randomBytes: ivStream('uea-roundtrip', job.index),
          });
          roundTrip = decoderNew.decryptCredentials(enc2.encodeCredentials(plaintext));
        }
        result = { credentials, plaintext, roundTrip };
      } else if (job.kind === 'secure') {
        const ss = legacy.createSecureStorageService({
          encryptionKey: keys.secureStorageKeyHex,
          randomBytes: ivStream('secure', job.index),
        });
        // objects travel as JSON text (keeps an own "__proto__" key intact)
        const encrypted = await ss.encryptCredentials(JSON.parse(job.inputJson));
        const plaintext = await ssOld.decryptCredentials(encrypted);
        result = { encrypted, plaintextJson: JSON.stringify(plaintext) };
      } else if (job.kind === 'auth') {
        const auth = legacy.createAuthService({
          encryptionKey: keys.encryptionKey,
          randomBytes: ivStream('auth', job.index),
        });
        const encrypted = auth.encryptData(job.input);
        result = { encrypted, plaintext: authOld.decryptData(encrypted) };
      } else {
        throw new Error(`unknown job kind ${job.kind}`);
      }
      parentPort.postMessage({ id: job.id, result });
    } catch (e) {
      parentPort.postMessage({ id: job.id, error: `${e && e.name}: ${e && e.message}` });
    }
  });
}

// ---------------------------------------------------------------------------
// Deterministic content
// ---------------------------------------------------------------------------

class Rng {
  constructor(seed) {
    this.bytes = legacy.createSeededRandomBytes(seed);
  }
  u32() {
    return this.bytes(4).readUInt32BE(0);
  }
  float() {
    return this.u32() / 0x100000000;
  }
  int(lo, hi) {
    // inclusive
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  chance(p) {
    return this.float() < p;
  }
  pick(arr) {
    return arr[Math.floor(this.float() * arr.length)];
  }
  weighted(pairs) {
    const total = pairs.reduce((s, [, w]) => s + w, 0);
    let r = this.float() * total;
    for (const [v, w] of pairs) {
      if ((r -= w) < 0) return v;
    }
    return pairs[pairs.length - 1][0];
  }
  fromAlphabet(alphabet, n) {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.float() * alphabet.length)];
    return s;
  }
  hex(n) {
    return this.bytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
  }
  alnum(n) {
    return this.fromAlphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', n);
  }
  base64(nBytes) {
    return this.bytes(nBytes).toString('base64');
  }
  base64url(nBytes) {
    return this.bytes(nBytes).toString('base64url');
  }
  base32(n) {
    return this.fromAlphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', n);
  }
  uuid() {
    const b = this.bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}

const WORDS = [
  'correct', 'horse', 'battery', 'staple', 'satoshi', 'lightning', 'hodl', 'moon', 'axisor', 'margin',
  'futures', 'orange', 'river', 'falcon', 'quantum', 'nebula', 'granite', 'velvet', 'cobalt', 'ember',
];
const UNICODE = {
  cyrillic: ['ключ', 'секретный-пароль', 'Привет, мир', 'Ёжик в тумане', 'парольБиржи2024'],
  cjk: ['秘密の鍵', '密码123', '비밀번호', '中文字符', '取引所のパスフレーズ', '私钥保管'],
  emoji: ['🔐', '🔑🚀', '👨‍👩‍👧‍👦 family', '🇧🇷🇺🇦', 'pass🐸word', '₿⚡️'],
  misc: ['مفتاح سري', 'שלום', 'e\u0301te\u0301', '\ufeffbom-prefixed', 'line\u2028sep\u2029para', 'zero\u200bwidth', 'Ωmega≈∑'],
};
const LONE_SURROGATES = ['\ud800', 'abc\udfffdef', 'key\ud83d', '\ude00tail', 'x\ud800\ud800y', '\udbff\udbff', 'ok\ud83d\ude00but\ud83d'];
const JSON_SPECIAL = [
  '"quoted"', 'back\\slash', 'new\nline', 'crlf\r\nend', 'tab\there', '{"apiKey":"nested"}', '[1,2,3]',
  '\u0000nul\u0000', 'ctrl\u001f\u0007', '</script><script>', "it's", '\\u0041 literal', '${not_a_template}',
];
const COLON_VALUES = ['api-key:with:colons', 'a:b', ':leading', 'trailing:', '::', 'user:pass@host:8080', 'deadbeef:cafebabe'];
const TRUTHY_WORDS = ['true', 'false', 'null', 'undefined', '0', '1', 'NaN', '[]', '{}'];

function humanPassphrase(rng) {
  const n = rng.int(2, 4);
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(rng.pick(WORDS));
  let s = parts.join(rng.pick(['-', ' ', '_', '.', '']));
  if (rng.chance(0.5)) s += rng.int(0, 9999);
  if (rng.chance(0.3)) s += rng.pick(['!', '#', '$', '%', '&', '*', '?', '@']);
  return s;
}

function unicodeValue(rng) {
  const group = rng.pick(Object.keys(UNICODE));
  return rng.chance(0.5) ? rng.pick(UNICODE[group]) : `${rng.pick(WORDS)}-${rng.pick(UNICODE[group])}-${rng.int(0, 99)}`;
}

function pem(rng) {
  const body = rng.base64(121);
  const lines = body.match(/.{1,64}/g).join('\n');
  return `-----BEGIN EC PRIVATE KEY-----\n${lines}\n-----END EC PRIVATE KEY-----\n`;
}

const EXCHANGES = [
  // [name, weight, credentials(rng) -> {apiKey, apiSecret, passphrase?}, testnetKey?]
  ['lnmarkets', 30, (r) => ({ apiKey: r.base64(32), apiSecret: r.base64(64), passphrase: r.alnum(16) }), 'isTestnet'],
  ['binance', 20, (r) => ({ apiKey: r.alnum(64), apiSecret: r.alnum(64) }), 'testnet'],
  ['bybit', 12, (r) => ({ apiKey: r.alnum(18), apiSecret: r.alnum(36) }), 'testnet'],
  ['okx', 10, (r) => ({ apiKey: r.uuid(), apiSecret: r.hex(32).toUpperCase(), passphrase: humanPassphrase(r) }), 'isTestnet'],
  ['kucoin', 8, (r) => ({ apiKey: r.hex(24), apiSecret: r.uuid(), passphrase: humanPassphrase(r) }), 'isTestnet'],
  ['bitget', 6, (r) => ({ apiKey: `bg_${r.hex(32)}`, apiSecret: r.hex(64), passphrase: humanPassphrase(r) }), null],
  ['coinbase', 5, (r) => ({ apiKey: `organizations/${r.uuid()}/apiKeys/${r.uuid()}`, apiSecret: pem(r) }), null],
  ['kraken', 4, (r) => ({ apiKey: r.base64(42), apiSecret: r.base64(64) }), null],
  ['deribit', 3, (r) => ({ apiKey: r.alnum(8), apiSecret: r.base64url(32) }), 'testnet'],
  ['bitmex', 2, (r) => ({ apiKey: r.alnum(24), apiSecret: r.alnum(48) }), 'testnet'],
];

// Long values: >= 64 KiB of UTF-8.
function longAscii(rng, n) {
  return rng.base64(Math.ceil((n * 3) / 4)).slice(0, n);
}
function longCjk(rng, minBytes) {
  const chars = '秘密鍵密码取引所私钥保管中文字符비밀번호';
  let s = '';
  while (Buffer.byteLength(s) < minBytes) s += chars[rng.int(0, chars.length - 1)];
  return s;
}
function longMixed(rng, minBytes) {
  const parts = ['🔐', 'ключ', '中文', 'ascii ', '🚀', 'é', '\n', '"', '\\', ':'];
  let s = '';
  while (Buffer.byteLength(s) < minBytes) s += rng.pick(parts);
  return s;
}

// ---------------------------------------------------------------------------
// Row builders (pure, deterministic)
// ---------------------------------------------------------------------------

function buildCredentialRow(rng, i, users) {
  const [exchange, , make, testnetKey] = rng.weighted(EXCHANGES.map((e) => [e, e[1]]));
  const tags = [];
  let input = make(rng);
  let fallback = false;

  const scenario = rng.weighted([
    ['plain', 60],
    ['unicode', 8],
    ['empty-field', 5],
    ['whitespace-field', 4],
    ['colon', 3],
    ['json-special', 3],
    ['truthy-word', 2],
    ['padded', 2],
    ['extra-fields', 4],
    ['block-boundary', 3],
    ['plaintext-fallback', 2.5],
    ['testnet-boolean', 2],
    ['lone-surrogate', 1],
  ]);
  const field = rng.pick(Object.keys(input));

  switch (scenario) {
    case 'plain':
      break;
    case 'unicode':
      if (input.passphrase !== undefined) input.passphrase = unicodeValue(rng);
      else input.apiSecret = `${input.apiSecret}-${unicodeValue(rng)}`;
      tags.push('unicode');
      break;
    case 'empty-field':
      input[rng.chance(0.5) && input.passphrase !== undefined ? 'passphrase' : field] = '';
      tags.push('empty-field');
      break;
    case 'whitespace-field':
      input[input.passphrase !== undefined ? 'passphrase' : field] = rng.pick([' ', '   ', '\t', '\n', ' \r\n\t ', '\u00a0', '\u3000']);
      // NB: String#trim also strips U+00A0 / U+3000, so those are left out too
      tags.push('whitespace-field');
      break;
    case 'colon':
      input[field] = rng.pick(COLON_VALUES);
      tags.push('colon');
      break;
    case 'json-special':
      input[field] = rng.pick(JSON_SPECIAL);
      tags.push('json-special');
      break;
    case 'truthy-word':
      input[field] = rng.pick(TRUTHY_WORDS);
      tags.push('truthy-word');
      break;
    case 'padded':
      input[field] = ` ${input[field]}  `;
      tags.push('padded');
      break;
    case 'extra-fields':
      input.label = rng.chance(0.5) ? `${exchange} main` : unicodeValue(rng);
      if (rng.chance(0.5)) input.subaccount = `sub-${rng.int(1, 99)}`;
      if (rng.chance(0.3)) input.uid = String(rng.int(100000, 99999999));
      tags.push('extra-fields');
      break;
    case 'block-boundary': {
      const n = rng.pick([15, 16, 17, 31, 32, 33, 48]);
      input[field] = rng.alnum(n);
      tags.push('block-boundary');
      break;
    }
    case 'plaintext-fallback':
      // written while the securityConfig import was failing: stored in clear
      fallback = true;
      if (rng.chance(0.4)) input[field] = rng.pick(COLON_VALUES.filter((v) => v.split(':')[0] && v.split(':')[1]));
      tags.push('plaintext-fallback');
      break;
    case 'testnet-boolean':
      // JSON booleans reach the column as-is; the legacy decoder turns them into ''
      input[testnetKey || 'isTestnet'] = rng.chance(0.5);
      tags.push('testnet-boolean');
      break;
    case 'lone-surrogate':
      input[field] = rng.pick(LONE_SURROGATES);
      tags.push('lone-surrogate');
      break;
  }

  if (testnetKey && input[testnetKey] === undefined && rng.chance(0.45)) {
    input[testnetKey] = rng.chance(0.7) ? 'false' : 'true';
  }

  return {
    row: {
      id: rng.uuid(),
      user_id: rng.pick(users),
      exchange,
      account_name: `${exchange}-${rng.int(1, 3)}`,
      is_active: rng.chance(0.8),
    },
    input,
    fallback,
    tags,
  };
}

function buildSecureRow(rng, i, users) {
  const tags = [];
  const [, , make] = rng.weighted(EXCHANGES.map((e) => [e, e[1]]));
  const c = make(rng);
  let obj = { apiKey: c.apiKey, apiSecret: c.apiSecret, passphrase: c.passphrase || '' };
  const scenario = rng.weighted([
    ['plain', 65],
    ['unicode', 8],
    ['empty', 5],
    ['json-special', 5],
    ['colon', 3],
    ['extra-fields', 6],
    ['numbers', 3],
    ['lone-surrogate', 1.5],
    ['nested', 3],
  ]);
  switch (scenario) {
    case 'plain':
      break;
    case 'unicode':
      obj.passphrase = unicodeValue(rng);
      tags.push('unicode');
      break;
    case 'empty':
      obj[rng.pick(['apiKey', 'apiSecret', 'passphrase'])] = '';
      tags.push('empty-field');
      break;
    case 'json-special':
      obj[rng.pick(['apiKey', 'apiSecret', 'passphrase'])] = rng.pick(JSON_SPECIAL);
      tags.push('json-special');
      break;
    case 'colon':
      obj.passphrase = rng.pick(COLON_VALUES);
      tags.push('colon');
      break;
    case 'extra-fields':
      obj.label = unicodeValue(rng);
      obj.isTestnet = rng.chance(0.5);
      obj.createdAt = 1704067200000 + rng.int(0, 31536000) * 1000;
      if (rng.chance(0.3)) obj.note = null;
      tags.push('extra-fields');
      break;
    case 'numbers':
      obj.rateLimit = rng.pick([0.1, 0.5, 1e21, 1.5e-7, 5e-324, 1.7976931348623157e308, -42, 123456789.123456789, 9007199254740991]);
      obj.weight = rng.int(-1000, 1000) / 8;
      tags.push('numbers');
      break;
    case 'lone-surrogate':
      // JSON.stringify escapes lone surrogates (\ud800), so here they SURVIVE the round trip
      obj.passphrase = rng.pick(LONE_SURROGATES);
      tags.push('lone-surrogate');
      break;
    case 'nested':
      obj.meta = { scopes: ['read', 'trade', rng.chance(0.5) ? 'withdraw' : null], ip: [`10.0.${rng.int(0, 255)}.${rng.int(0, 255)}`], limits: { daily: rng.int(1, 10) * 1000 } };
      tags.push('nested');
      break;
  }
  return { row: { id: rng.uuid(), user_id: rng.pick(users) }, inputJson: JSON.stringify(obj), tags };
}

function buildAuthRow(rng, i, users) {
  const tags = [];
  const field = rng.weighted([
    ['totp_secret', 30],
    ['refresh_token', 20],
    ['webhook_secret', 10],
    ['telegram_chat_id', 8],
    ['email', 10],
    ['phone', 6],
    ['notes', 10],
    ['lnurl', 6],
  ]);
  let value;
  switch (field) {
    case 'totp_secret':
      value = rng.base32(rng.pick([16, 32]));
      break;
    case 'refresh_token':
      value = `${rng.base64url(18)}.${rng.base64url(rng.int(40, 120))}.${rng.base64url(32)}`;
      break;
    case 'webhook_secret':
      value = `whsec_${rng.base64(24)}`;
      break;
    case 'telegram_chat_id':
      value = String(rng.chance(0.3) ? -rng.int(1000000000, 1999999999) : rng.int(10000000, 9999999999));
      break;
    case 'email':
      value = `${rng.pick(WORDS)}.${rng.pick(WORDS)}${rng.int(1, 999)}@${rng.pick(['gmail.com', 'proton.me', 'axisor.io', 'yandex.ru', 'qq.com'])}`;
      break;
    case 'phone':
      value = `+${rng.pick(['55 11', '1 415', '7 495', '86 10', '351 21'])} ${rng.int(1000, 99999)}-${rng.int(1000, 9999)}`;
      break;
    case 'notes':
      value = `${rng.pick(WORDS)} ${unicodeValue(rng)} ${rng.pick(WORDS)}`;
      break;
    case 'lnurl':
      value = `LNURL1${rng.fromAlphabet('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', rng.int(80, 200))}`;
      break;
  }
  const scenario = rng.weighted([
    ['plain', 70],
    ['unicode', 6],
    ['empty', 2],
    ['json-special', 5],
    ['colon', 4],
    ['truthy-word', 3],
    ['block-boundary', 5],
    ['lone-surrogate', 1.5],
    ['whitespace', 2],
  ]);
  switch (scenario) {
    case 'plain':
      break;
    case 'unicode':
      value = unicodeValue(rng);
      tags.push('unicode');
      break;
    case 'empty':
      value = '';
      tags.push('empty');
      break;
    case 'json-special':
      value = rng.pick(JSON_SPECIAL);
      tags.push('json-special');
      break;
    case 'colon':
      value = rng.pick(COLON_VALUES);
      tags.push('colon');
      break;
    case 'truthy-word':
      value = rng.pick(TRUTHY_WORDS);
      tags.push('truthy-word');
      break;
    case 'block-boundary':
      value = rng.alnum(rng.pick([15, 16, 17, 31, 32, 33, 64]));
      tags.push('block-boundary');
      break;
    case 'lone-surrogate':
      value = rng.pick(LONE_SURROGATES);
      tags.push('lone-surrogate');
      break;
    case 'whitespace':
      value = rng.pick([' ', '\n', '\t \t']);
      tags.push('whitespace');
      break;
  }
  return { row: { id: rng.uuid(), user_id: rng.pick(users), field }, input: value, tags };
}

// ---------------------------------------------------------------------------
// Independent model of the seed's behaviour (cross-check of the port)
// ---------------------------------------------------------------------------

const isSplitEncrypted = (v) => {
  const [a, b] = v.split(':');
  return Boolean(a && b);
};

/** What legacy decryptCredentials returns for what legacy encode stored. */
function modelDecodeAfterEncode(input, fallback) {
  const out = {};
  for (const [k, v] of Object.entries(input)) {
    if (TESTNET_KEYS.has(k)) {
      if (v && typeof v === 'string') {
        if (isSplitEncrypted(v)) return null; // would attempt a decrypt: not modelled
        out[k] = v;
      } else out[k] = '';
    } else if (v && v.trim() !== '') {
      if (fallback) out[k] = isSplitEncrypted(v) ? '' : v; // failed decrypt -> ''
      else out[k] = v.toWellFormed();
    }
  }
  return out;
}

function sameOrdered(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return false;
    if (!sameOrdered(a[ka[i]], b[kb[i]])) return false;
  }
  return true;
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

function runPool(jobs, nWorkers, shared, onProgress) {
  return new Promise((resolve, reject) => {
    const results = new Array(jobs.length);
    let next = 0;
    let done = 0;
    let failed = false;
    const workers = [];
    const start = (w) => {
      if (next >= jobs.length) return;
      const id = next++;
      w.postMessage({ ...jobs[id], id });
    };
    for (let i = 0; i < Math.min(nWorkers, jobs.length); i++) {
      const w = new Worker(__filename, { workerData: shared });
      w.on('message', (msg) => {
        if (failed) return;
        if (msg.error) {
          failed = true;
          workers.forEach((x) => x.terminate());
          reject(new Error(`job ${msg.id} (${jobs[msg.id].kind} #${jobs[msg.id].index}): ${msg.error}`));
          return;
        }
        results[msg.id] = msg.result;
        done++;
        if (onProgress) onProgress(done, jobs.length);
        if (done === jobs.length) {
          workers.forEach((x) => x.terminate());
          resolve(results);
        } else start(w);
      });
      w.on('error', (e) => {
        if (!failed) {
          failed = true;
          workers.forEach((x) => x.terminate());
          reject(e);
        }
      });
      workers.push(w);
    }
    workers.forEach(start);
    if (jobs.length === 0) resolve(results);
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const seed = String(args.seed || 'axisor-legacy-export/v1');
  const out = path.resolve(args.out || path.join(__dirname, '..', 'examples', 'data', 'legacy-export.json'));
  const jobsN = Number(args.jobs) || Math.max(1, (os.availableParallelism ? os.availableParallelism() : os.cpus().length));
  const counts = {
    credentials: Number(args.accounts) || 1200,
    secure: Number(args.secure) || 600,
    auth: Number(args.auth) || 600,
  };

  const rng = new Rng(`${seed}/content`);
  const keyRng = new Rng(`${seed}/keys`);
  const keys = {
    // passphrase-like ENCRYPTION_KEY (AuthService + credential maps)
    encryptionKey: `axisor-prod-${keyRng.alnum(10)}-${keyRng.pick(WORDS)}#${keyRng.int(1000, 9999)}`,
    // hex key for SecureStorageService (64 hex chars)
    secureStorageKeyHex: keyRng.hex(64),
    newEncryptionKey: `axisor-2025-${keyRng.alnum(16)}!${keyRng.pick(WORDS)}`,
    newSecureStorageKeyHex: keyRng.hex(64),
  };

  const users = Array.from({ length: 900 }, () => rng.uuid());

  // ---- build inputs ------------------------------------------------------
  const cred = [];
  for (let i = 0; i < counts.credentials; i++) cred.push(buildCredentialRow(rng, i, users));
  const secure = [];
  for (let i = 0; i < counts.secure; i++) secure.push(buildSecureRow(rng, i, users));
  const auth = [];
  for (let i = 0; i < counts.auth; i++) auth.push(buildAuthRow(rng, i, users));

  // Fixed edge rows, spliced in at deterministic positions.
  const put = (arr, at, item) => arr.splice(Math.min(at, arr.length), 0, item);
  const edgeCred = (input, tags, fallback = false) => ({
    row: { id: rng.uuid(), user_id: rng.pick(users), exchange: 'lnmarkets', account_name: 'edge', is_active: false },
    input,
    fallback,
    tags,
  });
  put(cred, 7, edgeCred({ apiKey: longAscii(rng, 65536), apiSecret: rng.base64(64), passphrase: rng.alnum(16), isTestnet: 'false' }, ['long']));
  put(cred, 333, edgeCred({ apiKey: rng.base64(32), apiSecret: longCjk(rng, 65536), passphrase: 'x' }, ['long', 'unicode']));
  put(cred, 777, edgeCred({ apiKey: rng.base64(32), apiSecret: rng.base64(64), passphrase: longMixed(rng, 66000) }, ['long', 'unicode', 'colon', 'json-special']));
  put(cred, 11, edgeCred({}, ['empty-map']));
  put(cred, 12, edgeCred({ apiKey: '', apiSecret: '   ', passphrase: '' }, ['empty-field', 'whitespace-field', 'empty-map']));
  put(cred, 13, edgeCred({ isTestnet: 'true' }, ['testnet-only']));
  put(cred, 14, edgeCred({ apiKey: 'true', apiSecret: 'false', passphrase: 'null', isTestnet: 'true' }, ['truthy-word']));
  put(cred, 15, edgeCred({ apiKey: '\ud800', apiSecret: 'a\udc00b', passphrase: '🔐\ud83d' }, ['lone-surrogate']));
  put(cred, 16, edgeCred({ apiKey: 'plain-legacy-key', apiSecret: 'x:y', passphrase: 'no-colon', isTestnet: 'false' }, ['plaintext-fallback', 'colon'], true));
  put(cred, 17, edgeCred({ apiKey: 'ключ', apiSecret: '秘密', passphrase: '🔑🚀', testnet: 'true' }, ['unicode']));
  // String#trim vs Unicode White_Space: U+FEFF is blank for JS (dropped), U+0085 (NEL) is not (encrypted)
  put(cred, 18, edgeCred({ apiKey: rng.base64(32), apiSecret: '\ufeff', passphrase: '\u0085' }, ['whitespace-field', 'trim-semantics']));
  put(cred, 19, edgeCred({ apiKey: '\u2028\u3000\u00a0', apiSecret: ' \u0085 ', passphrase: '\u180e' }, ['whitespace-field', 'trim-semantics']));

  const edgeSecure = (obj, tags) => ({ row: { id: rng.uuid(), user_id: rng.pick(users) }, inputJson: JSON.stringify(obj), tags });
  put(secure, 5, edgeSecure({ apiKey: rng.base64(32), apiSecret: longAscii(rng, 65536), passphrase: 'p' }, ['long']));
  put(secure, 250, edgeSecure({ apiKey: 'ключ', apiSecret: longMixed(rng, 65600), passphrase: '' }, ['long', 'unicode', 'json-special']));
  put(secure, 9, edgeSecure({ apiKey: '', apiSecret: '', passphrase: '' }, ['empty-field']));
  put(secure, 10, edgeSecure({ apiKey: '\ud800', apiSecret: 'x\udfffy', passphrase: '🔐' }, ['lone-surrogate']));
  put(secure, 11, { row: { id: rng.uuid(), user_id: rng.pick(users) }, inputJson: '{"apiKey":"k","__proto__":{"isAdmin":true},"passphrase":"p"}', tags: ['proto-key'] });
  put(secure, 12, edgeSecure({ apiKey: 'true', apiSecret: 'null', passphrase: '0' }, ['truthy-word']));
  put(secure, 13, edgeSecure({}, ['empty-object']));
  put(secure, 14, edgeSecure('just a string', ['non-object-json']));
  put(secure, 15, edgeSecure(['apiKey', 'apiSecret'], ['non-object-json']));
  put(secure, 16, edgeSecure(null, ['non-object-json']));
  put(secure, 17, edgeSecure({ '1': 'integer-like key', b: 'second', a: 'third', '0': 'zero' }, ['key-order']));

  const edgeAuth = (value, tags) => ({ row: { id: rng.uuid(), user_id: rng.pick(users), field: 'notes' }, input: value, tags });
  put(auth, 3, edgeAuth(longAscii(rng, 65536), ['long']));
  put(auth, 200, edgeAuth(longCjk(rng, 65537), ['long', 'unicode']));
  put(auth, 400, edgeAuth(longMixed(rng, 70000), ['long', 'unicode', 'colon', 'json-special']));
  put(auth, 4, edgeAuth('', ['empty']));
  put(auth, 5, edgeAuth('\ud800', ['lone-surrogate']));
  put(auth, 6, edgeAuth('a:b:c', ['colon']));
  put(auth, 7, edgeAuth('true', ['truthy-word']));
  put(auth, 8, edgeAuth('0123456789abcdef', ['block-boundary']));
  put(auth, 9, edgeAuth('\u0000', ['json-special']));

  // ---- run the legacy port -------------------------------------------------
  const jobs = [];
  cred.forEach((c, index) => {
    const model = modelDecodeAfterEncode(c.input, c.fallback);
    c.model = model;
    // the legacy re-encode -> decode is run for every row whose shape the
    // encoder treats specially, plus a 1-in-20 sample of the rest
    const special = ['empty-field', 'whitespace-field', 'testnet-boolean', 'plaintext-fallback', 'lone-surrogate', 'trim-semantics', 'empty-map', 'testnet-only', 'padded'];
    const checkRoundTrip = c.tags.some((t) => special.includes(t)) || index % 20 === 0 || model === null;
    jobs.push({ kind: 'credentials', index, input: c.input, fallback: c.fallback, checkRoundTrip });
  });
  secure.forEach((s, index) => jobs.push({ kind: 'secure', index, inputJson: s.inputJson }));
  auth.forEach((a, index) => jobs.push({ kind: 'auth', index, input: a.input }));

  const t0 = Date.now();
  let lastPct = -1;
  const results = await runPool(jobs, jobsN, { seed, keys }, (done, total) => {
    const pct = Math.floor((done * 100) / total);
    if (pct % 10 === 0 && pct !== lastPct) {
      lastPct = pct;
      process.stderr.write(`  legacy port: ${done}/${total} jobs (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
  });

  // ---- assemble + cross-check ---------------------------------------------
  const problems = [];
  const accounts = cred.map((c, index) => {
    const r = results[index];
    if (c.model && !sameOrdered(c.model, r.plaintext)) problems.push(`credentials #${index}: legacy decode differs from model`);
    // what the legacy reader returns after a legacy re-encode of `plaintext`
    const migrated = modelDecodeAfterEncode(r.plaintext, false);
    if (migrated === null) problems.push(`credentials #${index}: migration not modelled`);
    if (r.roundTrip && !sameOrdered(migrated, r.roundTrip)) problems.push(`credentials #${index}: legacy round trip differs from model`);
    const row = { ...c.row, credentials: r.credentials, plaintext: r.plaintext };
    if (migrated && !sameOrdered(migrated, r.plaintext)) row.migrated_plaintext = migrated;
    if (c.tags.length) row.tags = c.tags;
    return row;
  });
  let off = cred.length;
  const secureRows = secure.map((s, i) => {
    const r = results[off + i];
    if (r.plaintextJson !== s.inputJson) problems.push(`secure #${i}: legacy decrypt differs from input`);
    // JSON.parse keeps an own "__proto__" key; spreading would not, so build by hand
    const row = { ...s.row, encrypted: r.encrypted };
    row.plaintext = JSON.parse(r.plaintextJson);
    if (s.tags.length) row.tags = s.tags;
    return row;
  });
  off += secure.length;
  const authRows = auth.map((a, i) => {
    const r = results[off + i];
    if (r.plaintext !== a.input.toWellFormed()) problems.push(`auth #${i}: legacy decrypt differs from toWellFormed(input)`);
    const row = { ...a.row, encrypted: r.encrypted, plaintext: r.plaintext };
    if (a.tags.length) row.tags = a.tags;
    return row;
  });

  if (problems.length) {
    console.error(`cross-check failed (${problems.length}):\n  ${problems.slice(0, 20).join('\n  ')}`);
    process.exit(1);
  }

  const tagCounts = (rows) => {
    const t = {};
    for (const r of rows) for (const x of r.tags || []) t[x] = (t[x] || 0) + 1;
    return Object.fromEntries(Object.entries(t).sort());
  };

  const meta = {
    format: 'axisor-legacy-export/1',
    generator: 'scripts/gen-legacy-data.js (legacy/legacy.js: port of the seed TypeScript)',
    seed,
    description:
      'Rows as written by the legacy backend. `plaintext` is what the LEGACY decrypt returns for the stored value ' +
      '(lone surrogates written by the CBC writers come back as U+FFFD; secure_storage keeps them because JSON.stringify ' +
      'escapes them). For user_exchange_accounts, `migrated_plaintext` (only when different from `plaintext`) is what ' +
      'the legacy decoder returns after the decoded map is re-encoded: empty fields are dropped by the legacy encoder.',
    keys: {
      encryptionKey: keys.encryptionKey,
      secureStorageKeyHex: keys.secureStorageKeyHex,
      newEncryptionKey: keys.newEncryptionKey,
      newSecureStorageKeyHex: keys.newSecureStorageKeyHex,
    },
    formats: {
      user_exchange_accounts: 'credentials: per-field map; encrypted fields are hex(iv16):hex(aes-256-cbc) under scrypt(encryptionKey, "salt", 32); isTestnet/testnet and plaintext-fallback rows are stored as-is',
      secure_storage: 'encrypted: hex(iv16):hex(tag16):hex(aes-256-gcm(JSON.stringify(obj))) under scrypt(hexdecode(secureStorageKeyHex), "axisor-salt", 32)',
      auth_strings: 'encrypted: hex(iv16):hex(aes-256-cbc(utf8)) under scrypt(encryptionKey, "salt", 32) (AuthService.encryptData)',
    },
    counts: {
      user_exchange_accounts: accounts.length,
      user_exchange_account_fields: accounts.reduce((s, r) => s + Object.keys(r.credentials).length, 0),
      secure_storage: secureRows.length,
      auth_strings: authRows.length,
    },
    tags: {
      user_exchange_accounts: tagCounts(accounts),
      secure_storage: tagCounts(secureRows),
      auth_strings: tagCounts(authRows),
    },
  };

  // one row per line: compact but diff-able
  const section = (name, rows) => `"${name}":[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]`;
  const text =
    `{"meta":${JSON.stringify(meta, null, 1)},\n` +
    `${section('user_exchange_accounts', accounts)},\n` +
    `${section('secure_storage', secureRows)},\n` +
    `${section('auth_strings', authRows)}\n}\n`;

  // sanity: parses back to the same thing
  const back = JSON.parse(text);
  const protoRow = back.secure_storage.find((r) => r.tags && r.tags.includes('proto-key'));
  if (back.user_exchange_accounts.length !== accounts.length || !Object.prototype.hasOwnProperty.call(protoRow.plaintext, '__proto__')) {
    throw new Error('serialisation sanity check failed');
  }

  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, text);
  const size = Buffer.byteLength(text);
  const sha = crypto.createHash('sha256').update(text).digest('hex');
  console.log(
    `wrote ${path.relative(process.cwd(), out)}: ${accounts.length} accounts (${meta.counts.user_exchange_account_fields} stored fields), ` +
      `${secureRows.length} secure_storage, ${authRows.length} auth_strings; ${(size / 1048576).toFixed(2)} MiB; ` +
      `sha256 ${sha.slice(0, 16)}…; ${((Date.now() - t0) / 1000).toFixed(1)} s with ${jobsN} worker(s)`
  );
  if (size > 8 * 1048576) {
    console.error('warning: export is larger than 8 MiB');
    process.exitCode = 1;
  }
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  workerMain();
}
