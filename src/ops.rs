//! One struct per operation. Each implements [`Operation`]: `run` is the work (inline for the sync
//! export, on the libuv pool for the async one) and `to_js` turns its output into a JS value on the
//! JS thread. [`Job`] adapts any operation to napi's `Task`, so both exports share one body, and
//! maps every error in one place. Inputs are copied into owned (zeroizing) memory before a job is
//! built, so nothing borrowed from JS crosses threads.

use napi::bindgen_prelude::{ToNapiValue, TypeName, Unknown};
use napi::{sys, Env, Task, ValueType};
use zeroize::Zeroizing;

use crate::cbc_format;
use crate::codec::decode_utf8_lossy;
use crate::error::{CryptoError, ErrorCode};
use crate::js::{self, PinnedValue, RawEnv, RawValue};
use crate::kdf::KeySource;
use crate::secure_storage::{self, SecureStorageKey};

/// An error on its way to JS, with the credential fields it concerns (strict map decoding).
pub struct Failure {
    pub error: CryptoError,
    pub fields: Option<Vec<String>>,
}

impl From<CryptoError> for Failure {
    fn from(error: CryptoError) -> Self {
        Failure { error, fields: None }
    }
}

pub trait Operation: Send + Sized + 'static {
    type Output: Send + 'static;

    fn run(&mut self) -> Result<Self::Output, Failure>;

    fn to_js(&mut self, env: RawEnv, output: Self::Output) -> Result<RawValue, Failure>;

    /// Release JS references still held if `to_js` never ran. Called on the JS thread.
    fn release(&mut self) {}
}

/// A job: an operation whose arguments were valid, or the argument error to report.
pub struct Job<O: Operation> {
    op: Result<O, CryptoError>,
    legacy_message: Option<&'static str>,
}

impl<O: Operation> Job<O> {
    pub fn new(op: Result<O, CryptoError>) -> Self {
        Job { op, legacy_message: None }
    }

    /// Report every failure (but argument type errors) with the fixed message the legacy service
    /// threw; the detailed error becomes `cause`.
    pub fn with_legacy_message(mut self, message: Option<&'static str>) -> Self {
        self.legacy_message = message;
        self
    }

    /// The sync export: the same body as the async one, run inline.
    pub fn run_sync(mut self, env: Env) -> napi::Result<JsAny> {
        let output = self.compute()?;
        let result = self.resolve(env, output);
        self.finally(env)?;
        result
    }
}

/// A JS value produced by `to_js`; the exports declare its TypeScript type.
pub struct JsAny(RawValue);

impl TypeName for JsAny {
    fn type_name() -> &'static str {
        "unknown"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ToNapiValue for JsAny {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        Ok(val.0)
    }
}

fn to_napi_error(env: RawEnv, failure: &Failure, legacy_message: Option<&str>) -> napi::Error {
    // Argument type errors are programming errors: they keep their own message and type.
    let message = if failure.error.code.is_type_error() { None } else { legacy_message };
    match js::build_error(env, &failure.error, message, failure.fields.as_deref()) {
        // napi rethrows the referenced JS object itself, with our code and properties.
        Ok(value) => napi::Error::from(unsafe { Unknown::from_raw_unchecked(env, value) }),
        Err(_) => napi::Error::new(napi::Status::GenericFailure, failure.error.message.to_string()),
    }
}

impl<O: Operation> Task for Job<O> {
    type Output = Result<O::Output, Failure>;
    type JsValue = JsAny;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(match &mut self.op {
            Ok(op) => op.run(),
            Err(e) => Err(Failure::from(e.clone())),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<JsAny> {
        let raw = env.raw();
        let result = match (&mut self.op, output) {
            (Ok(op), Ok(out)) => op.to_js(raw, out),
            (Ok(_), Err(f)) | (Err(_), Err(f)) => Err(f),
            (Err(e), Ok(_)) => Err(Failure::from(e.clone())),
        };
        result.map(JsAny).map_err(|f| to_napi_error(raw, &f, self.legacy_message))
    }

    fn finally(mut self, _env: Env) -> napi::Result<()> {
        if let Ok(op) = &mut self.op {
            op.release();
        }
        Ok(())
    }
}

/// Refuse, before any work, a result that could not become a JavaScript string.
pub fn check_output_len(len: usize) -> Result<(), Failure> {
    if len > js::MAX_STRING_LENGTH {
        return Err(js::string_too_long().into());
    }
    Ok(())
}

/// Length of `hex(iv):hex(ct)` for a CBC plaintext of `n` bytes.
fn cbc_output_len(n: usize) -> usize {
    33 + 2 * (n / 16 + 1) * 16
}

fn string_to_js(env: RawEnv, s: &str) -> Result<RawValue, Failure> {
    js::create_string(env, s).map_err(Failure::from)
}

/// `AuthService.encryptData`.
pub struct EncryptData {
    pub data: Zeroizing<String>,
    pub key: KeySource,
    pub iv: Option<[u8; 16]>,
}

impl Operation for EncryptData {
    type Output = String;

    fn run(&mut self) -> Result<String, Failure> {
        check_output_len(cbc_output_len(self.data.len()))?;
        let key = self.key.key()?;
        Ok(match &self.iv {
            Some(iv) => cbc_format::encrypt_with_iv(&key, iv, self.data.as_bytes()),
            None => cbc_format::encrypt(&key, self.data.as_bytes())?,
        })
    }

    fn to_js(&mut self, env: RawEnv, out: String) -> Result<RawValue, Failure> {
        string_to_js(env, &out)
    }
}

/// `AuthService.decryptData`.
pub struct DecryptData {
    /// Ciphertext is public: no need to zeroize it.
    pub encrypted: js::Units,
    pub key: KeySource,
}

impl Operation for DecryptData {
    type Output = cbc_format::Plaintext;

    fn run(&mut self) -> Result<cbc_format::Plaintext, Failure> {
        // The shape check first: malformed input never costs a key derivation.
        let (iv, ct) = cbc_format::split_encrypted(&self.encrypted)?;
        let key = self.key.key()?;
        Ok(cbc_format::decrypt_to_plaintext(&key, iv, ct)?)
    }

    fn to_js(&mut self, env: RawEnv, out: cbc_format::Plaintext) -> Result<RawValue, Failure> {
        js::create_string_lossy(env, out.as_bytes()).map_err(Failure::from)
    }
}

/// SecureStorageService encryption (`encryptSecure`; `encryptCredentials` passes V8's JSON).
pub struct EncryptSecure {
    pub plaintext: Zeroizing<String>,
    pub key: SecureStorageKey,
    pub iv: Option<[u8; 16]>,
    pub allow_weak_key: bool,
}

impl Operation for EncryptSecure {
    type Output = String;

    fn run(&mut self) -> Result<String, Failure> {
        self.key.check_strength(self.allow_weak_key)?;
        check_output_len(66 + 2 * self.plaintext.len())?;
        let key = self.key.material()?;
        Ok(match &self.iv {
            Some(iv) => secure_storage::encrypt_with_iv(&key, iv, self.plaintext.as_bytes()),
            None => secure_storage::encrypt(&key, self.plaintext.as_bytes())?,
        })
    }

    fn to_js(&mut self, env: RawEnv, out: String) -> Result<RawValue, Failure> {
        string_to_js(env, &out)
    }
}

/// SecureStorageService decryption to a string (`decryptSecure`) or to parsed JSON
/// (`decryptCredentials`, parsed by V8's own `JSON.parse`).
pub struct DecryptSecure {
    pub encrypted: js::Units,
    pub key: SecureStorageKey,
    pub credentials: bool,
}

impl Operation for DecryptSecure {
    type Output = Zeroizing<String>;

    fn run(&mut self) -> Result<Zeroizing<String>, Failure> {
        if self.encrypted.iter().filter(|&&u| u == b':' as u16).count() != 2 {
            return Err(CryptoError::invalid_format().into());
        }
        let key = self.key.material()?;
        let mut plain = secure_storage::decrypt(&key, &self.encrypted)?;
        Ok(Zeroizing::new(decode_utf8_lossy(std::mem::take(&mut *plain))))
    }

    fn to_js(&mut self, env: RawEnv, out: Zeroizing<String>) -> Result<RawValue, Failure> {
        let text = string_to_js(env, &out)?;
        if !self.credentials {
            return Ok(text);
        }
        js::call_json(env, "parse", text).map_err(|e| {
            // The SyntaxError's message quotes the plaintext: it is dropped, never passed on.
            Failure::from(e.unwrap_or_else(|| {
                CryptoError::new(ErrorCode::InvalidFormat, "The decrypted credentials are not valid JSON")
            }))
        })
    }
}

/// A property key kept as UTF-16 (so a key with a lone surrogate is set back exactly) with its
/// name as text for error messages.
pub struct FieldKey {
    pub units: Vec<u16>,
    pub name: String,
    /// Position in the input map (error reports list fields in the map's order).
    pub position: usize,
}

fn set_field(env: RawEnv, obj: RawValue, key: &FieldKey, value: &str) -> Result<(), CryptoError> {
    let mut k = std::ptr::null_mut();
    let status = unsafe { sys::napi_create_string_utf16(env, key.units.as_ptr(), key.units.len() as isize, &mut k) };
    if status != sys::Status::napi_ok {
        return Err(CryptoError::new(ErrorCode::InvalidArgValue, "Could not create a property key"));
    }
    let v = js::create_string(env, value)?;
    js::set_property(env, obj, k, v)
}

/// `UserExchangeAccountService`'s per-field encoder. The output object was built on the JS thread
/// with every kept field in order; the encrypted values are filled in by `to_js`.
pub struct EncodeCredentialMap {
    pub out: Option<PinnedValue>,
    pub key: KeySource,
    pub fields: Vec<(FieldKey, Zeroizing<String>)>,
    pub iv: Option<[u8; 16]>,
}

impl Operation for EncodeCredentialMap {
    type Output = Vec<String>;

    fn run(&mut self) -> Result<Vec<String>, Failure> {
        if self.fields.is_empty() {
            return Ok(Vec::new());
        }
        for (_, value) in &self.fields {
            check_output_len(cbc_output_len(value.len()))?;
        }
        let key = self.key.key()?;
        let mut out = Vec::with_capacity(self.fields.len());
        for (_, value) in &self.fields {
            out.push(match &self.iv {
                Some(iv) => cbc_format::encrypt_with_iv(&key, iv, value.as_bytes()),
                None => cbc_format::encrypt(&key, value.as_bytes())?,
            });
        }
        Ok(out)
    }

    fn to_js(&mut self, env: RawEnv, encrypted: Vec<String>) -> Result<RawValue, Failure> {
        let out = self.out.take().ok_or_else(|| CryptoError::new(ErrorCode::InvalidArgValue, "result already taken"))?.take()?;
        for ((key, _), value) in self.fields.iter().zip(&encrypted) {
            set_field(env, out, key, value)?;
        }
        Ok(out)
    }

    fn release(&mut self) {
        if let Some(p) = self.out.take() {
            let _ = p.take();
        }
    }
}

/// `UserExchangeAccountService.decryptCredentials`, per field.
pub struct DecodeCredentialMap {
    pub out: Option<PinnedValue>,
    pub key: KeySource,
    /// Fields in the encrypted shape (two non-empty `:` parts): their IV and ciphertext already
    /// decoded from hex on the JS thread (or the decoding error), so only bytes are held.
    pub fields: Vec<(FieldKey, Result<([u8; 16], Vec<u8>), CryptoError>)>,
    /// Fields whose value was not a string, with their position (strict mode fails on them).
    pub not_strings: Vec<(usize, String)>,
    pub strict: bool,
}

impl Operation for DecodeCredentialMap {
    type Output = Vec<Option<Zeroizing<String>>>;

    fn run(&mut self) -> Result<Self::Output, Failure> {
        let mut out = Vec::with_capacity(self.fields.len());
        let mut any_failed = false;
        if !self.fields.is_empty() {
            let key = self.key.key()?;
            for (_, parts) in &mut self.fields {
                let decrypted = match parts {
                    Ok((iv, ct)) => cbc_format::decrypt_bytes_to_string(&key, iv, std::mem::take(ct)),
                    Err(e) => Err(e.clone()),
                };
                out.push(match decrypted {
                    Ok(s) => Some(Zeroizing::new(s)),
                    Err(_) => {
                        any_failed = true;
                        None
                    }
                });
            }
        }
        if self.strict && (any_failed || !self.not_strings.is_empty()) {
            // Every failing field, in the map's order: the non-strings and the undecryptable.
            let mut failed: Vec<(usize, String)> = self.not_strings.clone();
            failed.extend(
                self.fields.iter().zip(&out).filter(|(_, v)| v.is_none()).map(|((k, _), _)| (k.position, k.name.clone())),
            );
            failed.sort_by_key(|(position, _)| *position);
            let fields: Vec<String> = failed.into_iter().map(|(_, name)| name).collect();
            return Err(Failure {
                error: CryptoError::new(
                    ErrorCode::BadDecrypt,
                    format!("Failed to decrypt credential fields: {}", fields.join(", ")),
                ),
                fields: Some(fields),
            });
        }
        Ok(out)
    }

    fn to_js(&mut self, env: RawEnv, decrypted: Self::Output) -> Result<RawValue, Failure> {
        let out = self.out.take().ok_or_else(|| CryptoError::new(ErrorCode::InvalidArgValue, "result already taken"))?.take()?;
        for ((key, _), value) in self.fields.iter().zip(&decrypted) {
            // The legacy fallback: a field that fails to decrypt becomes ''.
            set_field(env, out, key, value.as_deref().map(String::as_str).unwrap_or(""))?;
        }
        Ok(out)
    }

    fn release(&mut self) {
        if let Some(p) = self.out.take() {
            let _ = p.take();
        }
    }
}
