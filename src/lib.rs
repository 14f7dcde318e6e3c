//! @axisor/crypto: the Axisor backend's encryption at rest, byte-compatible with its legacy
//! TypeScript implementation.
//!
//! The modules `codec`, `kdf`, `rng`, `cbc_format`, `secure_storage` and `credential_map` are a
//! plain Rust core (`cargo test --no-default-features` runs without Node). With the `node`
//! feature, this file is the thin napi binding over it: each export parses its arguments
//! (`args`), builds one operation (`ops`) and runs it inline (sync) or on the libuv pool (async).

pub mod argon2id;
pub mod base64_sodium;
pub mod cbc_format;
pub mod codec;
pub mod credential_map;
pub mod error;
pub mod file_format;
pub mod gcm_stream;
#[cfg(target_arch = "x86_64")]
mod gcm_x86;
pub mod kdf;
pub mod rng;
pub mod secure_storage;
pub mod xchacha;

#[cfg(feature = "node")]
mod args;
#[cfg(feature = "node")]
mod js;
#[cfg(feature = "node")]
mod ops;
#[cfg(feature = "node")]
pub mod file_binding;
#[cfg(feature = "node")]
pub mod sodium_binding;
#[cfg(feature = "node")]
mod sodium_ops;

#[cfg(feature = "node")]
pub use binding::*;

#[cfg(feature = "node")]
mod raw_callbacks;

#[cfg(feature = "node")]
mod binding {
    use napi::bindgen_prelude::{AsyncTask, Uint8Array, Unknown};
    use napi::{Env, Result};
    use napi_derive::napi;

    use crate::args;
    use crate::error::CryptoError;
    use crate::kdf::LegacySalt;
    use crate::ops::{DecodeCredentialMap, DecryptData, DecryptSecure, EncodeCredentialMap, EncryptData, EncryptSecure, Job, JsAny};

    /// Options of `encryptData` and `encodeCredentialMap`.
    #[napi(object)]
    pub struct EncryptOptions {
        /// A fixed 16-byte IV instead of a fresh random one. For known-answer tests only: reusing
        /// an IV under one key leaks plaintext relations.
        pub iv: Option<Uint8Array>,
    }

    /// Options of `encryptSecure` and `encryptCredentials`.
    #[napi(object)]
    pub struct SecureEncryptOptions {
        /// A fixed 16-byte IV instead of a fresh random one. For known-answer tests only: reusing
        /// a GCM IV under one key breaks both confidentiality and authenticity.
        pub iv: Option<Uint8Array>,
        /// Encrypt even when the hex key decodes to fewer than 16 bytes. Every non-hex key
        /// decodes to zero bytes, which makes one public key shared by every such deployment.
        pub allow_weak_key: Option<bool>,
    }

    /// Options of `decodeCredentialMap`.
    #[napi(object)]
    pub struct DecodeCredentialMapOptions {
        /// Throw (code `ERR_BAD_DECRYPT`, with `error.fields` naming every failing field, never
        /// their values) instead of the legacy fallback of `''` for a field that fails to decrypt
        /// or is not a string. `isTestnet`/`testnet` values pass through whatever their type.
        pub strict: Option<bool>,
    }

    fn encrypt_data_job(data: &Unknown, password: &Unknown, options: Option<&Unknown>) -> Job<EncryptData> {
        Job::new((|| {
            let data = args::utf8(data, "data")?;
            let key = args::password(password, LegacySalt::Salt)?;
            let iv = args::fixed_iv(args::options(options)?.bytes("iv")?)?;
            Ok::<_, CryptoError>(EncryptData { data, key, iv })
        })())
    }

    fn decrypt_data_job(encrypted: &Unknown, password: &Unknown) -> Job<DecryptData> {
        Job::new((|| {
            Ok(DecryptData { encrypted: args::ciphertext(encrypted, "encrypted")?, key: args::password(password, LegacySalt::Salt)? })
        })())
    }

    fn encrypt_secure_job(plaintext: std::result::Result<zeroize::Zeroizing<String>, CryptoError>, hex_key: &Unknown, options: Option<&Unknown>, credentials: bool) -> Job<EncryptSecure> {
        Job::new((|| {
            let plaintext = plaintext?;
            let key = args::secure_key(hex_key, "hexKey")?;
            let options = args::options(options)?;
            let iv = args::fixed_iv(options.bytes("iv")?)?;
            let allow_weak_key = options.boolean("allowWeakKey")?.unwrap_or(false);
            Ok(EncryptSecure { plaintext, key, iv, allow_weak_key })
        })())
        .with_legacy_message(credentials.then_some("Failed to encrypt credentials"))
    }

    fn decrypt_secure_job(encrypted: &Unknown, hex_key: &Unknown, credentials: bool) -> Job<DecryptSecure> {
        Job::new((|| {
            Ok(DecryptSecure { encrypted: args::ciphertext(encrypted, "encrypted")?, key: args::secure_key(hex_key, "hexKey")?, credentials })
        })())
        .with_legacy_message(credentials.then_some("Failed to decrypt credentials"))
    }

    fn credentials_json(credentials: &Unknown) -> std::result::Result<zeroize::Zeroizing<String>, CryptoError> {
        args::json_stringify(credentials)
    }

    fn encode_map_job(map: &Unknown, password: &Unknown, options: Option<&Unknown>) -> Job<EncodeCredentialMap> {
        Job::new((|| {
            let key = args::password(password, LegacySalt::Salt)?;
            let iv = args::fixed_iv(args::options(options)?.bytes("iv")?)?;
            args::prepare_encode_map(map, key, iv)
        })())
    }

    fn decode_map_job(map: &Unknown, password: &Unknown, options: Option<&Unknown>) -> Job<DecodeCredentialMap> {
        Job::new((|| {
            let key = args::password(password, LegacySalt::Salt)?;
            let strict = args::options(options)?.boolean("strict")?.unwrap_or(false);
            args::prepare_decode_map(map, key, strict)
        })())
    }

    /// AES-256-CBC, as the legacy `AuthService.encryptData`: key = scrypt(password, "salt"),
    /// result `hex(iv) + ":" + hex(ciphertext)`. The derived key is cached after the first call.
    #[napi(ts_args_type = "data: string, password: string, options?: EncryptOptions", ts_return_type = "string")]
    pub fn encrypt_data(env: Env, data: Unknown, password: Unknown, options: Option<Unknown>) -> Result<JsAny> {
        encrypt_data_job(&data, &password, options.as_ref()).run_sync(env)
    }

    /// `encryptData` on the libuv thread pool.
    #[napi(ts_args_type = "data: string, password: string, options?: EncryptOptions", ts_return_type = "Promise<string>")]
    pub fn encrypt_data_async(data: Unknown, password: Unknown, options: Option<Unknown>) -> AsyncTask<Job<EncryptData>> {
        AsyncTask::new(encrypt_data_job(&data, &password, options.as_ref()))
    }

    /// The legacy `AuthService.decryptData`, quirks included: lenient hex in the IV, lossy UTF-8,
    /// and a wrong key that happens to leave valid padding returns garbage (CBC has no integrity).
    /// Throws `Invalid encrypted data format` unless there are exactly two non-empty `:` parts.
    #[napi(ts_args_type = "encrypted: string, password: string", ts_return_type = "string")]
    pub fn decrypt_data(env: Env, encrypted: Unknown, password: Unknown) -> Result<JsAny> {
        decrypt_data_job(&encrypted, &password).run_sync(env)
    }

    /// `decryptData` on the libuv thread pool.
    #[napi(ts_args_type = "encrypted: string, password: string", ts_return_type = "Promise<string>")]
    pub fn decrypt_data_async(encrypted: Unknown, password: Unknown) -> AsyncTask<Job<DecryptData>> {
        AsyncTask::new(decrypt_data_job(&encrypted, &password))
    }

    /// AES-256-GCM with a 16-byte IV, as the legacy `SecureStorageService`: key =
    /// scrypt(Buffer.from(hexKey, 'hex'), "axisor-salt"), result `hex(iv):hex(tag):hex(ct)`.
    /// Refuses (`ERR_WEAK_KEY`) a hex key that decodes to fewer than 16 bytes.
    #[napi(ts_args_type = "plaintext: string, hexKey: string, options?: SecureEncryptOptions", ts_return_type = "string")]
    pub fn encrypt_secure(env: Env, plaintext: Unknown, hex_key: Unknown, options: Option<Unknown>) -> Result<JsAny> {
        encrypt_secure_job(args::utf8(&plaintext, "plaintext"), &hex_key, options.as_ref(), false).run_sync(env)
    }

    /// `encryptSecure` on the libuv thread pool.
    #[napi(ts_args_type = "plaintext: string, hexKey: string, options?: SecureEncryptOptions", ts_return_type = "Promise<string>")]
    pub fn encrypt_secure_async(plaintext: Unknown, hex_key: Unknown, options: Option<Unknown>) -> AsyncTask<Job<EncryptSecure>> {
        AsyncTask::new(encrypt_secure_job(args::utf8(&plaintext, "plaintext"), &hex_key, options.as_ref(), false))
    }

    /// Decrypts the `iv:tag:ct` secure-storage format. Tags must be 16 bytes (Node accepted
    /// truncated tags); nothing is returned unless the tag verifies.
    #[napi(ts_args_type = "encrypted: string, hexKey: string", ts_return_type = "string")]
    pub fn decrypt_secure(env: Env, encrypted: Unknown, hex_key: Unknown) -> Result<JsAny> {
        decrypt_secure_job(&encrypted, &hex_key, false).run_sync(env)
    }

    /// `decryptSecure` on the libuv thread pool.
    #[napi(ts_args_type = "encrypted: string, hexKey: string", ts_return_type = "Promise<string>")]
    pub fn decrypt_secure_async(encrypted: Unknown, hex_key: Unknown) -> AsyncTask<Job<DecryptSecure>> {
        AsyncTask::new(decrypt_secure_job(&encrypted, &hex_key, false))
    }

    /// `SecureStorageService.encryptCredentials`: `encryptSecure(JSON.stringify(credentials))`,
    /// with V8's own JSON. Failures throw `Failed to encrypt credentials` (detail in `cause`).
    #[napi(ts_args_type = "credentials: object, hexKey: string, options?: SecureEncryptOptions", ts_return_type = "string")]
    pub fn encrypt_credentials(env: Env, credentials: Unknown, hex_key: Unknown, options: Option<Unknown>) -> Result<JsAny> {
        encrypt_secure_job(credentials_json(&credentials), &hex_key, options.as_ref(), true).run_sync(env)
    }

    /// `encryptCredentials` on the libuv thread pool (the JSON is made before the call returns).
    #[napi(ts_args_type = "credentials: object, hexKey: string, options?: SecureEncryptOptions", ts_return_type = "Promise<string>")]
    pub fn encrypt_credentials_async(credentials: Unknown, hex_key: Unknown, options: Option<Unknown>) -> AsyncTask<Job<EncryptSecure>> {
        AsyncTask::new(encrypt_secure_job(credentials_json(&credentials), &hex_key, options.as_ref(), true))
    }

    /// `SecureStorageService.decryptCredentials`: `JSON.parse(decryptSecure(...))`. Failures throw
    /// `Failed to decrypt credentials` with a stable `code` and the detail in `cause`.
    #[napi(ts_args_type = "encrypted: string, hexKey: string", ts_return_type = "any")]
    pub fn decrypt_credentials(env: Env, encrypted: Unknown, hex_key: Unknown) -> Result<JsAny> {
        decrypt_secure_job(&encrypted, &hex_key, true).run_sync(env)
    }

    /// `decryptCredentials` on the libuv thread pool.
    #[napi(ts_args_type = "encrypted: string, hexKey: string", ts_return_type = "Promise<any>")]
    pub fn decrypt_credentials_async(encrypted: Unknown, hex_key: Unknown) -> AsyncTask<Job<DecryptSecure>> {
        AsyncTask::new(decrypt_secure_job(&encrypted, &hex_key, true))
    }

    /// The per-field encoder of the legacy `createUserExchangeAccount`: every field encrypted as
    /// `encryptData`, `isTestnet`/`testnet` kept as they are, empty or blank fields left out.
    /// Never falls back to storing plaintext.
    #[napi(ts_args_type = "credentials: Record<string, unknown>, password: string, options?: EncryptOptions", ts_return_type = "Record<string, unknown>")]
    pub fn encode_credential_map(env: Env, credentials: Unknown, password: Unknown, options: Option<Unknown>) -> Result<JsAny> {
        encode_map_job(&credentials, &password, options.as_ref()).run_sync(env)
    }

    /// `encodeCredentialMap` on the libuv thread pool.
    #[napi(ts_args_type = "credentials: Record<string, unknown>, password: string, options?: EncryptOptions", ts_return_type = "Promise<Record<string, unknown>>")]
    pub fn encode_credential_map_async(credentials: Unknown, password: Unknown, options: Option<Unknown>) -> AsyncTask<Job<EncodeCredentialMap>> {
        AsyncTask::new(encode_map_job(&credentials, &password, options.as_ref()))
    }

    /// The legacy `UserExchangeAccountService.decryptCredentials`, per field: a value that is not
    /// two non-empty `:` parts passes through; a value that fails to decrypt becomes `''`; a
    /// non-string becomes `''` (or, with `{ strict: true }`, an error naming the fields).
    /// Without `strict` every value comes back a string; with it, `isTestnet`/`testnet` keep their type.
    #[napi(ts_generic_types = "O extends DecodeCredentialMapOptions | undefined = undefined", ts_args_type = "credentials: Record<string, unknown>, password: string, options?: O", ts_return_type = "O extends { strict?: false | null } | undefined | null ? Record<string, string> : Record<string, unknown>")]
    pub fn decode_credential_map(env: Env, credentials: Unknown, password: Unknown, options: Option<Unknown>) -> Result<JsAny> {
        decode_map_job(&credentials, &password, options.as_ref()).run_sync(env)
    }

    /// `decodeCredentialMap` on the libuv thread pool.
    #[napi(ts_generic_types = "O extends DecodeCredentialMapOptions | undefined = undefined", ts_args_type = "credentials: Record<string, unknown>, password: string, options?: O", ts_return_type = "Promise<O extends { strict?: false | null } | undefined | null ? Record<string, string> : Record<string, unknown>>")]
    pub fn decode_credential_map_async(credentials: Unknown, password: Unknown, options: Option<Unknown>) -> AsyncTask<Job<DecodeCredentialMap>> {
        AsyncTask::new(decode_map_job(&credentials, &password, options.as_ref()))
    }

    /// Forget every cached derived key (their memory is zeroized once no call is using them).
    #[napi]
    pub fn clear_key_cache() {
        crate::kdf::clear_key_cache();
    }
}
