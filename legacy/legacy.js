'use strict';
/**
 * Faithful CommonJS port of the legacy TypeScript crypto layer
 * (/work/shared/seed/encryption-at-rest.md), running on Node's `crypto`
 * and `libsodium-wrappers-sumo`.
 *
 * This is the "legacy side" for tests, benchmarks and data generation. It
 * deliberately keeps every algorithm, string format and quirk of the seed:
 *   - lenient `Buffer.from(x, 'hex')` (stops at the first non-hex pair),
 *   - `decipher.update(ct, 'hex', 'utf8')` (+ `final('utf8')`), i.e. Node's
 *     hex parsing and WHATWG-style UTF-8 replacement (U+FFFD) on output,
 *   - scrypt on EVERY call where the seed does it (AuthService.encryptData,
 *     each credential field on encode AND decode, every SecureStorage call,
 *     every file operation),
 *   - the try/catch fallbacks (plaintext fallback on encode, '' on decode,
 *     generic 'Failed to ... credentials' / 'Encryption failed' messages).
 *
 * Differences from the seed, all on purpose:
 *   - no logging at all, no prisma (plain objects in / out),
 *   - config is passed in instead of read from process.env / config modules,
 *   - AuthService's static decryption-key cache is per instance,
 *   - randomness can be injected (`randomBytes(n) -> Buffer`,
 *     `randombytesBuf(n) -> Uint8Array`) for deterministic vectors / data,
 *   - SecureStorageService uses util.promisify(crypto.scrypt): the seed
 *     imports a non-existent `scryptAsync` from 'crypto' (it would be
 *     undefined and every call would fail); promisify(scrypt) is clearly what
 *     was meant and what the recorded vectors were produced with.
 *   - AdvancedCryptoService.decrypt keeps the seed's wrong libsodium argument
 *     order (it ALWAYS throws 'Decryption failed'); `decryptIntended` is the
 *     same method with the arguments in the right order.
 */

const crypto = require('crypto');
const fsp = require('fs/promises');
const { promisify } = require('util');

const scryptAsync = promisify(crypto.scrypt);

function asBuffer(b) {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function wrapRandomBytes(randomBytes) {
  const fn = randomBytes || crypto.randomBytes;
  return (n) => asBuffer(fn(n));
}

// ---------------------------------------------------------------------------
// Deterministic randomness (for vectors and the data generator)
// ---------------------------------------------------------------------------

/**
 * A deterministic byte stream: SHA-256(seed || 0x00 || counter) blocks.
 * Returns a `randomBytes(n) -> Buffer` function usable as `randomBytes` or
 * `randombytesBuf` injection. NOT a CSPRNG for production use.
 */
function createSeededRandomBytes(seed) {
  const seedStr = String(seed);
  let counter = 0;
  let pool = Buffer.alloc(0);
  return function seededRandomBytes(n) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError('invalid size');
    const chunks = [pool];
    let have = pool.length;
    while (have < n) {
      const h = crypto.createHash('sha256').update(seedStr).update('\0').update(String(counter++)).digest();
      chunks.push(h);
      have += h.length;
    }
    const all = chunks.length === 1 ? pool : Buffer.concat(chunks);
    const out = Buffer.from(all.subarray(0, n));
    pool = all.subarray(n);
    return out;
  };
}

/** A randomBytes(n) that returns the given buffers (hex strings or Buffers) in order. */
function createQueuedRandomBytes(list) {
  const queue = list.map((x) => (typeof x === 'string' ? Buffer.from(x, 'hex') : asBuffer(x)));
  return function queuedRandomBytes(n) {
    if (queue.length === 0) throw new Error('queued randomBytes exhausted');
    const b = queue.shift();
    if (b.length !== n) throw new Error(`queued randomBytes: wanted ${n} bytes, have ${b.length}`);
    return Buffer.from(b);
  };
}

// ---------------------------------------------------------------------------
// AuthService (backend/src/services/auth.service.ts)
// ---------------------------------------------------------------------------

function createAuthService({ encryptionKey, randomBytes } = {}) {
  const rand = wrapRandomBytes(randomBytes);
  // Seed: `private static decryptionKey` (process-wide). Here: per instance.
  let decryptionKey = null;

  return {
    encryptData(data) {
      const algorithm = 'aes-256-cbc';
      const key = crypto.scryptSync(encryptionKey, 'salt', 32);
      const iv = rand(16);

      const cipher = crypto.createCipheriv(algorithm, key, iv);
      let encrypted = cipher.update(data, 'utf8', 'hex');
      encrypted += cipher.final('hex');

      return iv.toString('hex') + ':' + encrypted;
    },

    decryptData(encryptedData) {
      const algorithm = 'aes-256-cbc';

      // Key is derived (and cached) BEFORE the format check, as in the seed.
      if (!decryptionKey) {
        decryptionKey = crypto.scryptSync(encryptionKey, 'salt', 32);
      }

      const parts = encryptedData.split(':');
      if (parts.length !== 2 || !parts[0] || !parts[1]) {
        throw new Error('Invalid encrypted data format');
      }

      const iv = Buffer.from(parts[0], 'hex');
      const encrypted = parts[1];

      const decipher = crypto.createDecipheriv(algorithm, decryptionKey, iv);
      let decrypted = decipher.update(encrypted, 'hex', 'utf8');
      decrypted += decipher.final('utf8');

      return decrypted;
    },

    /** Test helper: forget the cached decryption key. */
    _resetKeyCache() {
      decryptionKey = null;
    },
  };
}

// ---------------------------------------------------------------------------
// SecureStorageService (backend/src/services/secure-storage.service.ts)
// ---------------------------------------------------------------------------

function createSecureStorageService({ encryptionKey, randomBytes } = {}) {
  const rand = wrapRandomBytes(randomBytes);
  const algorithm = 'aes-256-gcm';
  const keyLength = 32;
  const ivLength = 16;

  async function generateKey() {
    const salt = Buffer.from(encryptionKey, 'hex');
    return await scryptAsync(salt, 'axisor-salt', keyLength);
  }

  // Body of encryptCredentials after the key; `getData` runs where the seed
  // calls JSON.stringify (after the IV is drawn and the cipher created).
  async function encryptInner(getData) {
    const key = await generateKey();
    const iv = rand(ivLength);
    const cipher = crypto.createCipheriv(algorithm, key, iv);

    const data = getData();

    let encrypted = cipher.update(data, 'utf8', 'hex');
    encrypted += cipher.final('hex');

    const tag = cipher.getAuthTag();

    return iv.toString('hex') + ':' + tag.toString('hex') + ':' + encrypted;
  }

  async function decryptInner(encryptedData) {
    const key = await generateKey();
    const parts = encryptedData.split(':');

    if (parts.length !== 3) {
      throw new Error('Invalid encrypted data format');
    }

    const iv = Buffer.from(parts[0], 'hex');
    const tag = Buffer.from(parts[1], 'hex');
    const encrypted = parts[2];

    const decipher = crypto.createDecipheriv(algorithm, key, iv);
    decipher.setAuthTag(tag);

    let decrypted = decipher.update(encrypted, 'hex', 'utf8');
    decrypted += decipher.final('utf8');
    return decrypted;
  }

  return {
    async encryptCredentials(credentials) {
      try {
        return await encryptInner(() => JSON.stringify(credentials));
      } catch (error) {
        throw new Error('Failed to encrypt credentials');
      }
    },

    async decryptCredentials(encryptedData) {
      try {
        const decrypted = await decryptInner(encryptedData);
        return JSON.parse(decrypted);
      } catch (error) {
        throw new Error('Failed to decrypt credentials');
      }
    },

    /** Same as encryptCredentials, on a raw string (no JSON.stringify). */
    async encryptSecureString(plaintext) {
      try {
        return await encryptInner(() => plaintext);
      } catch (error) {
        throw new Error('Failed to encrypt credentials');
      }
    },

    /** Same as decryptCredentials, returning the raw string (no JSON.parse). */
    async decryptSecureString(encryptedData) {
      try {
        return await decryptInner(encryptedData);
      } catch (error) {
        throw new Error('Failed to decrypt credentials');
      }
    },
  };
}

// ---------------------------------------------------------------------------
// UserExchangeAccountService (backend/src/services/userExchangeAccount.service.ts)
// ---------------------------------------------------------------------------

/**
 * `encryptionKey` replaces both `securityConfig.encryption.key` (encode) and
 * `process.env.ENCRYPTION_KEY` (decode). Passing `encryptionKey: undefined`
 * makes scryptSync throw inside the try blocks, which reproduces the era
 * when the `securityConfig` import failed: encode falls back to storing
 * plaintext, decode returns '' for every string field.
 */
function createUserExchangeAccountService({ encryptionKey, randomBytes } = {}) {
  const rand = wrapRandomBytes(randomBytes);

  return {
    /** The per-field loop of createUserExchangeAccount. */
    encodeCredentials(credentials) {
      const encryptedCredentials = {};

      Object.entries(credentials).forEach(([key, value]) => {
        if (key === 'isTestnet' || key === 'testnet') {
          encryptedCredentials[key] = value;
          return;
        }

        // NB: outside the try, as in the seed: a truthy non-string throws.
        if (value && value.trim() !== '') {
          try {
            const algorithm = 'aes-256-cbc';
            const k = crypto.scryptSync(encryptionKey, 'salt', 32);
            const iv = rand(16);

            const cipher = crypto.createCipheriv(algorithm, k, iv);
            let encrypted = cipher.update(value, 'utf8', 'hex');
            encrypted += cipher.final('hex');

            encryptedCredentials[key] = `${iv.toString('hex')}:${encrypted}`;
          } catch (error) {
            encryptedCredentials[key] = value; // Fallback para valor não criptografado
          }
        }
      });

      return encryptedCredentials;
    },

    /** decryptCredentials of the seed. */
    decryptCredentials(encryptedCredentials) {
      const decryptedCredentials = {};

      if (encryptedCredentials && typeof encryptedCredentials === 'object') {
        const keys = Object.keys(encryptedCredentials);

        for (const key of keys) {
          const value = encryptedCredentials[key];

          if (value && typeof value === 'string') {
            try {
              const algorithm = 'aes-256-cbc';
              const keyBuffer = crypto.scryptSync(encryptionKey, 'salt', 32);

              const [ivHex, encryptedHex] = value.split(':');
              if (!ivHex || !encryptedHex) {
                decryptedCredentials[key] = value;
                continue;
              }

              const iv = Buffer.from(ivHex, 'hex');
              const encrypted = encryptedHex;

              const decipher = crypto.createDecipheriv(algorithm, keyBuffer, iv);
              let decrypted = decipher.update(encrypted, 'hex', 'utf8');
              decrypted += decipher.final('utf8');

              decryptedCredentials[key] = decrypted;
            } catch (error) {
              decryptedCredentials[key] = ''; // Fallback para string vazia
            }
          } else {
            decryptedCredentials[key] = '';
          }
        }
      }

      return decryptedCredentials;
    },
  };
}

// ---------------------------------------------------------------------------
// @Encrypted field decorator ("Field-Level Encryption")
// ---------------------------------------------------------------------------

/** Port of `Encrypted(target, propertyKey)` with the key passed in. */
function defineEncryptedProperty(target, propertyKey, { encryptionKey, randomBytes } = {}) {
  const rand = wrapRandomBytes(randomBytes);
  let value = target[propertyKey];

  const getter = function () {
    if (value) {
      try {
        const algorithm = 'aes-256-cbc';
        const key = crypto.scryptSync(encryptionKey, 'salt', 32);

        const parts = value.split(':');
        if (parts.length === 2) {
          const iv = Buffer.from(parts[0], 'hex');
          const encrypted = parts[1];

          const decipher = crypto.createDecipheriv(algorithm, key, iv);
          let decrypted = decipher.update(encrypted, 'hex', 'utf8');
          decrypted += decipher.final('utf8');

          return decrypted;
        }
      } catch (error) {
        // seed: console.error('Decryption failed:', error)
      }
    }
    return value;
  };

  const setter = function (newValue) {
    if (newValue) {
      try {
        const algorithm = 'aes-256-cbc';
        const key = crypto.scryptSync(encryptionKey, 'salt', 32);
        const iv = rand(16);

        const cipher = crypto.createCipheriv(algorithm, key, iv);
        let encrypted = cipher.update(newValue, 'utf8', 'hex');
        encrypted += cipher.final('hex');

        value = `${iv.toString('hex')}:${encrypted}`;
      } catch (error) {
        value = newValue; // Fallback to unencrypted
      }
    } else {
      value = newValue;
    }
  };

  Object.defineProperty(target, propertyKey, {
    get: getter,
    set: setter,
    enumerable: true,
    configurable: true,
  });
}

// ---------------------------------------------------------------------------
// FileEncryptionService (backend/src/services/file-encryption.service.ts)
// ---------------------------------------------------------------------------

function createFileEncryptionService({ fileEncryptionKey, randomBytes } = {}) {
  const rand = wrapRandomBytes(randomBytes);
  const algorithm = 'aes-256-gcm';
  const keyLength = 32;

  const svc = {
    async encryptFile(inputPath, outputPath) {
      const key = crypto.scryptSync(fileEncryptionKey, 'salt', keyLength);
      const iv = rand(16);

      const cipher = crypto.createCipheriv(algorithm, key, iv);

      const input = await fsp.readFile(inputPath);
      const encrypted = Buffer.concat([cipher.update(input), cipher.final()]);
      const tag = cipher.getAuthTag();

      const output = Buffer.concat([iv, tag, encrypted]);
      await fsp.writeFile(outputPath, output);
    },

    async decryptFile(inputPath, outputPath) {
      const key = crypto.scryptSync(fileEncryptionKey, 'salt', keyLength);

      const input = await fsp.readFile(inputPath);

      const iv = input.slice(0, 16);
      const tag = input.slice(16, 32);
      const encrypted = input.slice(32);

      const decipher = crypto.createDecipheriv(algorithm, key, iv);
      decipher.setAuthTag(tag);

      const decrypted = Buffer.concat([decipher.update(encrypted), decipher.final()]);
      await fsp.writeFile(outputPath, decrypted);
    },

    async encryptFileInPlace(filePath) {
      const tempPath = filePath + '.tmp';
      await svc.encryptFile(filePath, tempPath);
      await fsp.rename(tempPath, filePath);
    },

    async decryptFileInPlace(filePath) {
      const tempPath = filePath + '.tmp';
      await svc.decryptFile(filePath, tempPath);
      await fsp.rename(tempPath, filePath);
    },
  };
  return svc;
}

// ---------------------------------------------------------------------------
// AdvancedCryptoService (backend/src/services/advanced-crypto.service.ts)
// ---------------------------------------------------------------------------

function createAdvancedCryptoService({ masterKeyHex, randombytesBuf } = {}) {
  const sodium = require('libsodium-wrappers-sumo');
  const masterKey = Buffer.from(masterKeyHex || '', 'hex');
  const rb = (n) => (randombytesBuf ? randombytesBuf(n) : sodium.randombytes_buf(n));

  return {
    sodium,
    masterKey,

    async initialize() {
      await sodium.ready;
    },

    async encrypt(data) {
      try {
        await sodium.ready;

        const dataBytes = sodium.from_string(data);
        const nonce = rb(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);

        const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
          dataBytes,
          null, // No additional data
          null, // No additional data
          nonce,
          masterKey
        );

        return {
          ciphertext: sodium.to_base64(ciphertext),
          nonce: sodium.to_base64(nonce),
          tag: sodium.to_base64(ciphertext.slice(-sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES)),
        };
      } catch (error) {
        throw new Error('Encryption failed');
      }
    },

    /** The seed's decrypt: arguments in the wrong order, so it always throws. */
    async decrypt(encryptionResult) {
      try {
        await sodium.ready;

        const ciphertext = sodium.from_base64(encryptionResult.ciphertext);
        const nonce = sodium.from_base64(encryptionResult.nonce);

        const decrypted = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
          ciphertext,
          null, // No additional data
          null, // No additional data
          nonce,
          masterKey
        );

        return sodium.to_string(decrypted);
      } catch (error) {
        throw new Error('Decryption failed');
      }
    },

    /** What decrypt was meant to do: (secret_nonce=null, ciphertext, ad=null, nonce, key). */
    async decryptIntended(encryptionResult) {
      try {
        await sodium.ready;

        const ciphertext = sodium.from_base64(encryptionResult.ciphertext);
        const nonce = sodium.from_base64(encryptionResult.nonce);

        const decrypted = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
          null,
          ciphertext,
          null,
          nonce,
          masterKey
        );

        return sodium.to_string(decrypted);
      } catch (error) {
        throw new Error('Decryption failed');
      }
    },

    /** Sync, no sodium.ready: call initialize() first (as in the seed). */
    generateKey() {
      return sodium.to_base64(rb(32));
    },

    /** Sync, no try/catch: libsodium errors propagate (as in the seed). */
    deriveKeyFromPassword(password, salt) {
      const passwordBytes = sodium.from_string(password);
      const saltBytes = sodium.from_base64(salt);

      const key = sodium.crypto_pwhash(
        32,
        passwordBytes,
        saltBytes,
        sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
        sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE,
        sodium.crypto_pwhash_ALG_ARGON2ID13
      );

      return sodium.to_base64(key);
    },
  };
}

module.exports = {
  createAuthService,
  createSecureStorageService,
  createUserExchangeAccountService,
  createFileEncryptionService,
  createAdvancedCryptoService,
  defineEncryptedProperty,
  createSeededRandomBytes,
  createQueuedRandomBytes,
};
