//! The napi exports of the libsodium-compatible layer (the legacy `AdvancedCryptoService`):
//! XChaCha20-Poly1305 under the master key, key generation and Argon2id key derivation, each a
//! sync export and (except `generateKey`) an async twin on the libuv pool, as in `lib.rs`.
//!
//! Every failure is an `Error` with a stable `code` (`ERR_INVALID_FORMAT`, `ERR_INVALID_KEY`,
//! `ERR_AUTH_FAILED`, `ERR_INVALID_SALT`, `ABORT_ERR`; argument types: `TypeError` with
//! `ERR_INVALID_ARG_TYPE`); messages never hold keys, passwords or plaintext.

use std::ffi::CStr;
use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::{AbortSignal, AsyncTask, Uint8Array, Unknown};
use napi::{sys, Env, JsValue, Result};
use napi_derive::napi;

use crate::args;
use crate::argon2id;
use crate::error::{CryptoError, ErrorCode};
use crate::js::{self, RawEnv, RawValue};
use crate::ops::{Job, JsAny};
use crate::sodium_ops::{DeriveKey, GenerateKey, XchachaDecrypt, XchachaEncrypt};
use crate::xchacha::{MasterKey, NONCE_BYTES};

/// What `xchachaEncrypt` returns, as the legacy `EncryptionResult`: every field is libsodium
/// base64 (URL-safe alphabet, no padding).
#[napi(object)]
#[allow(dead_code)] // Declares the TypeScript type; the object is built in `sodium_ops`.
pub struct EncryptionResult {
    /// The ciphertext followed by its 16-byte Poly1305 tag.
    pub ciphertext: String,
    /// The random 24-byte nonce.
    pub nonce: String,
    /// The last 16 bytes of `ciphertext` (informational; decryption reads the tag from `ciphertext`).
    pub tag: String,
}

/// Options of `xchachaEncrypt`.
#[napi(object)]
pub struct XchachaEncryptOptions {
    /// A fixed 24-byte nonce instead of a fresh random one. For known-answer tests only: two
    /// messages under one key and nonce reveal the XOR of their plaintexts and allow forgeries.
    pub nonce: Option<Uint8Array>,
}

/// Options of `deriveKeyFromPasswordAsync`.
#[napi(object, object_to_js = false)]
#[allow(dead_code)] // Declares the TypeScript type; read by `abort_flag` (which checks `signal.aborted` first).
pub struct DeriveKeyOptions {
    /// Cancels the derivation: the promise rejects with code `ABORT_ERR`. An already aborted
    /// signal rejects without deriving; a derivation already running finishes on its thread and
    /// its result is wiped instead of returned.
    pub signal: Option<AbortSignal>,
}

fn env_of(v: &Unknown) -> RawEnv {
    v.value().env
}

/// `obj[key]` (getters run, as in the legacy code). A throwing getter is cleared and reported
/// without its message, which could quote anything.
fn get_named(env: RawEnv, obj: RawValue, key: &CStr, what: &str) -> std::result::Result<RawValue, CryptoError> {
    let mut out = ptr::null_mut();
    let status = unsafe { sys::napi_get_named_property(env, obj, key.as_ptr(), &mut out) };
    if status == sys::Status::napi_ok {
        return Ok(out);
    }
    let mut pending = false;
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if pending {
        let mut exception = ptr::null_mut();
        unsafe { sys::napi_get_and_clear_last_exception(env, &mut exception) };
    }
    Err(CryptoError::new(ErrorCode::InvalidArgValue, format!("Reading {what} failed")))
}

fn is_object(env: RawEnv, v: RawValue) -> bool {
    matches!(js::type_of(env, v), Ok(sys::ValueType::napi_object))
}

fn property_type_error(what: &str, expected: &str, env: RawEnv, v: RawValue) -> CryptoError {
    CryptoError::new(
        ErrorCode::InvalidArgType,
        format!("The \"{what}\" property must be {expected}. Received type {}", js::type_name(env, v)),
    )
}

/// A string property of the `result` argument, as UTF-16 code units (public data).
fn string_property(env: RawEnv, obj: RawValue, key: &CStr, what: &str) -> std::result::Result<Vec<u16>, CryptoError> {
    let v = get_named(env, obj, key, what)?;
    if !js::is_string(env, v) {
        return Err(property_type_error(what, "of type string", env, v));
    }
    Ok(std::mem::take(&mut *js::string_utf16(env, v)?))
}

fn master_key(v: &Unknown) -> std::result::Result<MasterKey, CryptoError> {
    MasterKey::from_hex(&args::utf16(v, "masterKeyHex")?)
}

/// The `nonce` option: exactly 24 bytes.
fn fixed_nonce(nonce: Option<Vec<u8>>) -> std::result::Result<Option<[u8; NONCE_BYTES]>, CryptoError> {
    match nonce {
        None => Ok(None),
        Some(n) => <[u8; NONCE_BYTES]>::try_from(&n[..]).map(Some).map_err(|_| {
            CryptoError::new(ErrorCode::InvalidArgValue, format!("The nonce option must be {NONCE_BYTES} bytes, got {}", n.len()))
        }),
    }
}

/// The `signal` option: `None` without one; else a listener whose flag the signal's abort sets
/// (already set if `signal.aborted` is true now). Read from the options' own properties.
pub(crate) fn abort_listener(options: Option<&Unknown>) -> std::result::Result<Option<js::AbortListener>, CryptoError> {
    let Some(options) = options else { return Ok(None) };
    let (env, raw) = (env_of(options), options.raw());
    if js::is_nullish(env, raw) {
        return Ok(None);
    }
    if !is_object(env, raw) {
        return Err(js::arg_type_error("options", "an object", env, raw));
    }
    match js::get_own_named(env, raw, "signal")? {
        Some(signal) if !js::is_nullish(env, signal) => Ok(Some(js::AbortListener::attach(env, signal)?)),
        _ => Ok(None),
    }
}

fn encrypt_job(data: &Unknown, master_key_hex: &Unknown, options: Option<&Unknown>) -> Job<XchachaEncrypt> {
    Job::new((|| {
        let data = args::utf8(data, "data")?;
        let key = master_key(master_key_hex)?;
        let nonce = fixed_nonce(args::options(options)?.bytes("nonce")?)?;
        Ok(XchachaEncrypt { data, key, nonce })
    })())
}

fn decrypt_job(result: &Unknown, master_key_hex: &Unknown) -> Job<XchachaDecrypt> {
    Job::new((|| {
        let (env, raw) = (env_of(result), result.raw());
        if !is_object(env, raw) {
            return Err(js::arg_type_error("result", "an object", env, raw));
        }
        let ciphertext = string_property(env, raw, c"ciphertext", "result.ciphertext")?;
        let nonce = string_property(env, raw, c"nonce", "result.nonce")?;
        Ok(XchachaDecrypt { ciphertext, nonce, key: master_key(master_key_hex)? })
    })())
}

fn derive_job(password: &Unknown, salt: &Unknown, options: Option<&Unknown>, limit: bool) -> Job<DeriveKey> {
    Job::new((|| {
        let password = args::utf8(password, "password")?;
        let salt = argon2id::decode_salt(&args::utf16(salt, "saltB64")?)?;
        let listener = abort_listener(options)?;
        Ok(DeriveKey { password, salt, abort: listener.as_ref().map(|l| Arc::clone(&l.flag)), listener, limit })
    })())
}

/// XChaCha20-Poly1305 (libsodium `crypto_aead_xchacha20poly1305_ietf_encrypt`, no additional
/// data) of `data`'s UTF-8 under the 32-byte hex master key, with a random 24-byte nonce, as the
/// legacy `AdvancedCryptoService.encrypt`. A key that does not decode (leniently, as
/// `Buffer.from(key, 'hex')`) to 32 bytes throws `ERR_INVALID_KEY`.
#[napi(ts_args_type = "data: string, masterKeyHex: string, options?: XchachaEncryptOptions", ts_return_type = "EncryptionResult")]
pub fn xchacha_encrypt(env: Env, data: Unknown, master_key_hex: Unknown, options: Option<Unknown>) -> Result<JsAny> {
    encrypt_job(&data, &master_key_hex, options.as_ref()).run_sync(env)
}

/// `xchachaEncrypt` on the libuv thread pool.
#[napi(ts_args_type = "data: string, masterKeyHex: string, options?: XchachaEncryptOptions", ts_return_type = "Promise<EncryptionResult>")]
pub fn xchacha_encrypt_async(data: Unknown, master_key_hex: Unknown, options: Option<Unknown>) -> AsyncTask<Job<XchachaEncrypt>> {
    AsyncTask::new(encrypt_job(&data, &master_key_hex, options.as_ref()))
}

/// Decrypts what `xchachaEncrypt` and the legacy `encrypt` produced (the legacy `decrypt` always
/// threw). Base64 is libsodium's, strict; the plaintext must be valid UTF-8 and one leading BOM
/// is removed, as libsodium-wrappers' `to_string`. Throws `ERR_INVALID_FORMAT` (base64, lengths,
/// UTF-8), `ERR_INVALID_KEY` or `ERR_AUTH_FAILED` (wrong key or tampered data).
#[napi(ts_args_type = "result: { ciphertext: string; nonce: string; tag?: string }, masterKeyHex: string", ts_return_type = "string")]
pub fn xchacha_decrypt(env: Env, result: Unknown, master_key_hex: Unknown) -> Result<JsAny> {
    decrypt_job(&result, &master_key_hex).run_sync(env)
}

/// `xchachaDecrypt` on the libuv thread pool.
#[napi(ts_args_type = "result: { ciphertext: string; nonce: string; tag?: string }, masterKeyHex: string", ts_return_type = "Promise<string>")]
pub fn xchacha_decrypt_async(result: Unknown, master_key_hex: Unknown) -> AsyncTask<Job<XchachaDecrypt>> {
    AsyncTask::new(decrypt_job(&result, &master_key_hex))
}

/// 32 bytes from the operating system's CSPRNG as libsodium base64 (43 characters).
#[napi(ts_return_type = "string")]
pub fn generate_key(env: Env) -> Result<JsAny> {
    Job::new(Ok(GenerateKey)).run_sync(env)
}

/// libsodium `crypto_pwhash` as the legacy `deriveKeyFromPassword` called it: Argon2id v1.3,
/// t = 2, m = 64 MiB, p = 1, 32-byte output, as libsodium base64. The salt must be libsodium
/// base64 of exactly 16 bytes (`ERR_INVALID_SALT`). Blocks the event loop for the whole
/// derivation (~50 ms, 64 MiB): prefer `deriveKeyFromPasswordAsync`.
#[napi(ts_args_type = "password: string, saltB64: string", ts_return_type = "string")]
pub fn derive_key_from_password(env: Env, password: Unknown, salt_b64: Unknown) -> Result<JsAny> {
    derive_job(&password, &salt_b64, None, false).run_sync(env)
}

/// `deriveKeyFromPassword` on the libuv thread pool, cancellable through `options.signal`.
/// At most `cores - 1` derivations (at least one) compute at once; the others wait on their pool
/// thread, so the event loop keeps a core.
#[napi(ts_args_type = "password: string, saltB64: string, options?: DeriveKeyOptions", ts_return_type = "Promise<string>")]
pub fn derive_key_from_password_async(password: Unknown, salt_b64: Unknown, options: Option<Unknown>) -> AsyncTask<Job<DeriveKey>> {
    AsyncTask::new(derive_job(&password, &salt_b64, options.as_ref(), true))
}
