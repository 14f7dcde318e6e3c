//! Argument parsing for the exports: type checks with Node-style `TypeError`s, copies into owned
//! memory, and the JS-side half of the credential-map operations (walking the input object).

use napi::bindgen_prelude::Unknown;
use napi::{sys, JsValue};
use zeroize::Zeroizing;

use crate::credential_map::{encode_action_for_string, is_plain_field, EncodeAction};
use crate::error::{CryptoError, ErrorCode};
use crate::kdf::{KeySource, LegacySalt};
use crate::js::{self, PinnedValue, RawEnv, RawValue};
use crate::ops::{DecodeCredentialMap, EncodeCredentialMap, FieldKey};
use crate::secure_storage::SecureStorageKey;

type ArgResult<T> = Result<T, CryptoError>;

fn raw(v: &Unknown) -> RawValue {
    v.raw()
}

fn env_of(v: &Unknown) -> RawEnv {
    v.value().env
}

/// A required string argument, as UTF-8 (plaintexts, passwords).
pub fn utf8(v: &Unknown, name: &str) -> ArgResult<Zeroizing<String>> {
    let (env, raw) = (env_of(v), raw(v));
    if !js::is_string(env, raw) {
        return Err(js::arg_type_error(name, "of type string", env, raw));
    }
    js::string_utf8(env, raw)
}

/// A required string argument, as UTF-16 code units (encrypted strings and hex keys, which Node
/// decoded code unit by code unit).
pub fn utf16(v: &Unknown, name: &str) -> ArgResult<Zeroizing<Vec<u16>>> {
    utf16_check(v, name)?;
    js::string_utf16(env_of(v), raw(v))
}

/// An encrypted-string argument: public data, so not zeroized; inline when short.
pub fn ciphertext(v: &Unknown, name: &str) -> ArgResult<js::Units> {
    let (env, raw) = (env_of(v), raw(v));
    js::public_string_utf16(env, raw)
        .map_err(|e| e.unwrap_or_else(|| js::arg_type_error(name, "of type string", env, raw)))
}

fn utf16_check(v: &Unknown, name: &str) -> ArgResult<()> {
    let (env, raw) = (env_of(v), raw(v));
    if !js::is_string(env, raw) {
        return Err(js::arg_type_error(name, "of type string", env, raw));
    }
    Ok(())
}

pub fn secure_key(v: &Unknown, name: &str) -> ArgResult<SecureStorageKey> {
    SecureStorageKey::from_hex(&utf16(v, name)?)
}

/// A password argument, looked up in the key cache now (kept only if it must be derived).
pub fn password(v: &Unknown, salt: LegacySalt) -> ArgResult<KeySource> {
    let (env, raw) = (env_of(v), raw(v));
    if !js::is_string(env, raw) {
        return Err(js::arg_type_error("password", "of type string", env, raw));
    }
    js::with_utf8(env, raw, |bytes| KeySource::new(bytes, salt))?
}

/// An options argument: `undefined`/`null` or an object whose OWN properties are read (never the
/// prototype chain), each checked for its type so that the error names the property.
pub struct Options {
    env: RawEnv,
    obj: Option<RawValue>,
}

pub fn options(v: Option<&Unknown>) -> ArgResult<Options> {
    let Some(v) = v else { return Ok(Options { env: std::ptr::null_mut(), obj: None }) };
    let (env, raw) = (env_of(v), raw(v));
    if js::is_nullish(env, raw) {
        return Ok(Options { env, obj: None });
    }
    if !matches!(js::type_of(env, raw), Ok(sys::ValueType::napi_object)) {
        return Err(js::arg_type_error("options", "an object", env, raw));
    }
    Ok(Options { env, obj: Some(raw) })
}

impl Options {
    fn own(&self, name: &str) -> ArgResult<Option<RawValue>> {
        let Some(obj) = self.obj else { return Ok(None) };
        Ok(js::get_own_named(self.env, obj, name)?.filter(|&v| !js::is_nullish(self.env, v)))
    }

    /// A `Buffer`/`Uint8Array` option, copied.
    pub fn bytes(&self, name: &str) -> ArgResult<Option<Vec<u8>>> {
        match self.own(name)? {
            None => Ok(None),
            Some(v) if js::is_uint8_array(self.env, v) => Ok(Some(js::uint8_array_bytes(self.env, v)?)),
            Some(v) => Err(js::arg_type_error(&format!("options.{name}"), "a Buffer or Uint8Array", self.env, v)),
        }
    }

    pub fn boolean(&self, name: &str) -> ArgResult<Option<bool>> {
        match self.own(name)? {
            None => Ok(None),
            Some(v) if matches!(js::type_of(self.env, v), Ok(sys::ValueType::napi_boolean)) => Ok(Some(js::truthy(self.env, v)?)),
            Some(v) => Err(js::arg_type_error(&format!("options.{name}"), "of type boolean", self.env, v)),
        }
    }
}

/// The `iv` option: exactly 16 bytes.
pub fn fixed_iv(iv: Option<Vec<u8>>) -> ArgResult<Option<[u8; 16]>> {
    match iv {
        None => Ok(None),
        Some(iv) => <[u8; 16]>::try_from(&iv[..]).map(Some).map_err(|_| {
            CryptoError::new(ErrorCode::InvalidIv, format!("The iv option must be 16 bytes, got {}", iv.len()))
        }),
    }
}

fn field_key(env: RawEnv, key: RawValue, name: String, position: usize) -> ArgResult<FieldKey> {
    Ok(FieldKey { units: js::string_utf16(env, key)?.to_vec(), name, position })
}

/// The JS-thread half of `encodeCredentialMap`: the legacy rules applied field by field, the
/// output object built with every kept field in the input's order (encrypted ones hold `''`
/// until the job fills them in).
pub fn prepare_encode_map(
    map: &Unknown,
    key: KeySource,
    iv: Option<[u8; 16]>,
) -> ArgResult<EncodeCredentialMap> {
    let (env, value) = (env_of(map), raw(map));
    // The legacy `Object.entries(credentials)`: null/undefined throw; a primitive is boxed (a
    // string's characters are its entries, a number has none).
    if js::is_nullish(env, value) {
        return Err(js::arg_type_error("credentials", "an object", env, value));
    }
    let obj = js::coerce_to_object(env, value)?;
    let out = js::create_object(env)?;
    let placeholder = js::create_string(env, "")?;
    let mut fields = Vec::new();
    for (position, (key, name, value)) in js::own_entries(env, obj)?.into_iter().enumerate() {
        if is_plain_field(&name) {
            js::set_property(env, out, key, value)?;
            continue;
        }
        if !js::truthy(env, value)? {
            continue;
        }
        if !js::is_string(env, value) {
            // The legacy `value.trim()` threw a TypeError here and the whole call failed.
            return Err(CryptoError::new(
                ErrorCode::InvalidArgType,
                format!("Credential field \"{name}\" must be a string. Received type {}", js::type_name(env, value)),
            ));
        }
        let text = js::string_utf8(env, value)?;
        if encode_action_for_string(&text) == EncodeAction::Omit {
            continue;
        }
        js::set_property(env, out, key, placeholder)?;
        fields.push((field_key(env, key, name, position)?, text));
    }
    Ok(EncodeCredentialMap { out: Some(PinnedValue::new(env, out)?), key, fields, iv })
}

/// The JS-thread half of `decodeCredentialMap`. A non-object map gives `{}` as the legacy code
/// did (strict mode: a TypeError). Values not in the encrypted shape pass through; non-strings
/// become `''`; the rest are decrypted by the job.
pub fn prepare_decode_map(map: &Unknown, key: KeySource, strict: bool) -> ArgResult<DecodeCredentialMap> {
    let (env, obj) = (env_of(map), raw(map));
    let out = js::create_object(env)?;
    let mut fields = Vec::new();
    let mut not_strings = Vec::new();
    // The legacy guard: `if (encryptedCredentials && typeof encryptedCredentials === 'object')`.
    let is_object = matches!(js::type_of(env, obj), Ok(sys::ValueType::napi_object));
    if !is_object && strict {
        return Err(js::arg_type_error("credentials", "an object", env, obj));
    }
    if is_object {
        let empty = js::create_string(env, "")?;
        for (position, (key, name, value)) in js::own_entries(env, obj)?.into_iter().enumerate() {
            if !js::is_string(env, value) {
                if strict {
                    if is_plain_field(&name) {
                        // Strict mode keeps what the encoder kept as it was (e.g. `isTestnet: true`).
                        js::set_property(env, out, key, value)?;
                        continue;
                    }
                    not_strings.push((position, name));
                }
                js::set_property(env, out, key, empty)?;
                continue;
            }
            if strict && is_plain_field(&name) {
                // Strict mode keeps what the encoder kept as it was, never decrypting it.
                js::set_property(env, out, key, value)?;
                continue;
            }
            let units = js::string_utf16(env, value)?;
            let Some((iv_hex, ct_hex)) = crate::cbc_format::first_two_parts(&units) else {
                // Empty or not `iv:ct`: the legacy code returned the value as it was ('' stays '').
                js::set_property(env, out, key, value)?;
                continue;
            };
            // Decoded now, so a huge value costs its bytes, not a UTF-16 copy, until the job runs.
            let parts = crate::cbc_format::decode_parts(iv_hex, ct_hex);
            drop(units);
            js::set_property(env, out, key, empty)?;
            fields.push((field_key(env, key, name, position)?, parts));
        }
    }
    Ok(DecodeCredentialMap { out: Some(PinnedValue::new(env, out)?), key, fields, not_strings, strict })
}

/// `JSON.stringify(credentials)` by V8 itself. `undefined` (a function, a symbol, undefined) and
/// a throwing serialization (BigInt, cycles, a throwing toJSON) are argument errors.
pub fn json_stringify(v: &Unknown) -> ArgResult<Zeroizing<String>> {
    let (env, raw) = (env_of(v), raw(v));
    match js::call_json(env, "stringify", raw) {
        Ok(json) if js::is_string(env, json) => js::string_utf8(env, json),
        Ok(_) => Err(CryptoError::new(
            ErrorCode::InvalidArgType,
            format!("The \"credentials\" argument is not JSON-serializable. Received type {}", js::type_name(env, raw)),
        )),
        Err(e) => Err(e.unwrap_or_else(|| {
            CryptoError::new(
                ErrorCode::InvalidArgValue,
                "The \"credentials\" argument could not be serialized to JSON (a BigInt, a cycle, or a throwing toJSON)",
            )
        })),
    }
}
