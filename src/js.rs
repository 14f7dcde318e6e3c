//! Raw N-API helpers for the binding layer: reading and writing JavaScript values with exactly
//! the semantics the legacy code saw (string code units, own enumerable keys, truthiness, the
//! global JSON), and building the Error objects we throw.

use std::ptr;

use napi::sys;
use zeroize::Zeroizing;

use crate::error::{CryptoError, ErrorCode};

pub type RawEnv = sys::napi_env;
pub type RawValue = sys::napi_value;

/// Any N-API failure here means the engine refused a basic operation (e.g. a pending exception or
/// a terminating worker). It is reported as an error, never a panic.
fn engine_error() -> CryptoError {
    CryptoError::new(ErrorCode::InvalidArgValue, "The JavaScript engine refused an operation on an argument")
}

fn check(status: sys::napi_status) -> Result<(), CryptoError> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(engine_error())
    }
}

/// For calls that can run user code (getters, Proxy traps, `toJSON`): a JavaScript exception is
/// cleared and becomes our error, so the sync export throws a coded Error and the async one
/// rejects its Promise instead of throwing whatever the user code threw.
fn check_js(env: RawEnv, status: sys::napi_status) -> Result<(), CryptoError> {
    if status == sys::Status::napi_ok {
        return Ok(());
    }
    if clear_pending_exception(env) {
        return Err(CryptoError::new(
            ErrorCode::InvalidArgValue,
            "An exception was thrown while an argument was read (a getter, a Proxy trap or toJSON)",
        ));
    }
    Err(engine_error())
}

/// Clear a pending JavaScript exception, if any (its text may quote user data: it is dropped).
pub fn clear_pending_exception(env: RawEnv) -> bool {
    let mut pending = false;
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if pending {
        let mut exception = ptr::null_mut();
        unsafe { sys::napi_get_and_clear_last_exception(env, &mut exception) };
    }
    pending
}

/// V8's longest string (2^29 - 24 code units on 64-bit), which Node reports as ERR_STRING_TOO_LONG.
pub const MAX_STRING_LENGTH: usize = (1 << 29) - 24;

pub fn string_too_long() -> CryptoError {
    CryptoError::new(ErrorCode::StringTooLong, "Cannot create a string longer than 0x1fffffe8 characters")
}

pub fn type_of(env: RawEnv, v: RawValue) -> Result<sys::napi_valuetype, CryptoError> {
    let mut t = 0;
    check(unsafe { sys::napi_typeof(env, v, &mut t) })?;
    Ok(t)
}

/// The `typeof` name, for error messages (never the value itself: it may be a secret).
pub fn type_name(env: RawEnv, v: RawValue) -> &'static str {
    match type_of(env, v) {
        Ok(sys::ValueType::napi_undefined) => "undefined",
        Ok(sys::ValueType::napi_null) => "null",
        Ok(sys::ValueType::napi_boolean) => "boolean",
        Ok(sys::ValueType::napi_number) => "number",
        Ok(sys::ValueType::napi_string) => "string",
        Ok(sys::ValueType::napi_symbol) => "symbol",
        Ok(sys::ValueType::napi_object) => "object",
        Ok(sys::ValueType::napi_function) => "function",
        Ok(sys::ValueType::napi_bigint) => "bigint",
        _ => "unknown",
    }
}

pub fn is_string(env: RawEnv, v: RawValue) -> bool {
    matches!(type_of(env, v), Ok(sys::ValueType::napi_string))
}

pub fn is_nullish(env: RawEnv, v: RawValue) -> bool {
    matches!(type_of(env, v), Ok(sys::ValueType::napi_undefined) | Ok(sys::ValueType::napi_null))
}

pub fn arg_type_error(name: &str, expected: &str, env: RawEnv, v: RawValue) -> CryptoError {
    CryptoError::new(
        ErrorCode::InvalidArgType,
        format!("The \"{name}\" argument must be {expected}. Received type {}", type_name(env, v)),
    )
}

/// A string's UTF-8 bytes as Node's `Buffer.from(s, 'utf8')` gives them (a lone surrogate becomes
/// EF BF BD). Zeroized on drop: these are plaintexts and passwords.
pub fn string_utf8(env: RawEnv, v: RawValue) -> Result<Zeroizing<String>, CryptoError> {
    // Short strings (the common case) are written in one call; asking V8 for the UTF-8 length
    // first costs a full pass over the string.
    const FAST: usize = 256;
    let mut buf = Zeroizing::new(Vec::<u8>::with_capacity(FAST));
    let mut written = 0usize;
    check(unsafe { sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), FAST, &mut written) })?;
    if written + 4 >= FAST {
        // Possibly truncated (V8 stops before a character that does not fit): ask for the length.
        let mut len = 0usize;
        check(unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) })?;
        buf = Zeroizing::new(crate::error::try_vec(len + 1)?);
        check(unsafe { sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), len + 1, &mut written) })?;
    }
    // SAFETY: N-API wrote `written` initialized bytes into the buffer's capacity.
    unsafe { buf.set_len(written) };
    // V8 writes well-formed UTF-8 (lone surrogates replaced); anything else is an engine fault.
    match String::from_utf8(std::mem::take(&mut *buf)) {
        Ok(s) => Ok(Zeroizing::new(s)),
        Err(e) => {
            let mut bytes = e.into_bytes();
            zeroize::Zeroize::zeroize(&mut bytes);
            Err(engine_error())
        }
    }
}

/// Run `f` on a string's UTF-8 bytes without a heap copy when it is short (passwords): the bytes
/// live in a stack buffer that is zeroized afterwards.
pub fn with_utf8<R>(env: RawEnv, v: RawValue, f: impl FnOnce(&[u8]) -> R) -> Result<R, CryptoError> {
    const FAST: usize = 128;
    let mut stack = [0u8; FAST];
    let mut written = 0usize;
    check(unsafe { sys::napi_get_value_string_utf8(env, v, stack.as_mut_ptr().cast(), FAST, &mut written) })?;
    if written + 4 < FAST {
        let result = f(&stack[..written]);
        // Only the bytes N-API wrote (and its NUL) can hold anything.
        zeroize::Zeroize::zeroize(&mut stack[..=written]);
        return Ok(result);
    }
    zeroize::Zeroize::zeroize(&mut stack[..]);
    let long = string_utf8(env, v)?;
    Ok(f(long.as_bytes()))
}

/// A string's UTF-16 code units, exactly as JavaScript holds them (lone surrogates included).
pub fn string_utf16(env: RawEnv, v: RawValue) -> Result<Zeroizing<Vec<u16>>, CryptoError> {
    // The length query is O(1) for UTF-16.
    let mut len = 0usize;
    check(unsafe { sys::napi_get_value_string_utf16(env, v, ptr::null_mut(), 0, &mut len) })?;
    let mut buf = Zeroizing::new(crate::error::try_vec::<u16>(len + 1)?);
    let mut written = 0usize;
    check(unsafe { sys::napi_get_value_string_utf16(env, v, buf.as_mut_ptr(), len + 1, &mut written) })?;
    // SAFETY: N-API wrote `written` initialized code units into the buffer's capacity.
    unsafe { buf.set_len(written.min(len)) };
    Ok(buf)
}

/// Code units of a string argument that is public data (ciphertext). Inline (no allocation) up
/// to 192 code units: a 32-byte value's CBC or GCM string is 129 or 130.
pub type Units = smallvec::SmallVec<[u16; 192]>;

/// [`Units`] of a string, in one N-API call when it fits inline. `Err(None)` if the value is not
/// a string.
pub fn public_string_utf16(env: RawEnv, v: RawValue) -> Result<Units, Option<CryptoError>> {
    let mut out = Units::new();
    let inline = out.inline_size();
    let mut written = 0usize;
    // SAFETY: N-API writes at most `inline` code units (the last one a NUL) into the inline
    // buffer, which has room for exactly that many.
    let status = unsafe { sys::napi_get_value_string_utf16(env, v, out.as_mut_ptr(), inline, &mut written) };
    if status == sys::Status::napi_string_expected {
        return Err(None);
    }
    check(status).map_err(Some)?;
    if written + 1 < inline {
        // SAFETY: N-API wrote `written` code units into the buffer's capacity.
        unsafe { out.set_len(written) };
        return Ok(out);
    }
    // Possibly truncated: read it whole into the heap (`from_vec` keeps that allocation).
    Ok(Units::from_vec(std::mem::take(&mut *string_utf16(env, v).map_err(Some)?)))
}

/// A JS string from decrypted bytes, as Node's lossy UTF-8 decoder makes it.
pub fn create_string_lossy(env: RawEnv, bytes: &[u8]) -> Result<RawValue, CryptoError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => create_string(env, s),
        Err(_) => {
            let s = Zeroizing::new(String::from_utf8_lossy(bytes).into_owned());
            create_string(env, &s)
        }
    }
}

pub fn create_string(env: RawEnv, s: &str) -> Result<RawValue, CryptoError> {
    if s.len() > MAX_STRING_LENGTH && s.chars().count() > MAX_STRING_LENGTH {
        return Err(string_too_long());
    }
    let mut out = ptr::null_mut();
    // ASCII (every hex output, most secrets) is Latin-1 too, and V8 copies Latin-1 without decoding.
    let status = if s.is_ascii() {
        unsafe { sys::napi_create_string_latin1(env, s.as_ptr().cast(), s.len() as isize, &mut out) }
    } else {
        unsafe { sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut out) }
    };
    check(status)?;
    Ok(out)
}

pub fn create_object(env: RawEnv) -> Result<RawValue, CryptoError> {
    let mut out = ptr::null_mut();
    check(unsafe { sys::napi_create_object(env, &mut out) })?;
    Ok(out)
}

pub fn truthy(env: RawEnv, v: RawValue) -> Result<bool, CryptoError> {
    let mut b = ptr::null_mut();
    check(unsafe { sys::napi_coerce_to_bool(env, v, &mut b) })?;
    let mut out = false;
    check(unsafe { sys::napi_get_value_bool(env, b, &mut out) })?;
    Ok(out)
}

/// `Object.keys(obj)` with the values: own, enumerable, string-keyed, in JavaScript's order.
/// Each key is returned as its JS value (to set on the output object) and as Rust text.
pub fn own_entries(env: RawEnv, obj: RawValue) -> Result<Vec<(RawValue, String, RawValue)>, CryptoError> {
    let mut names = ptr::null_mut();
    check_js(env, unsafe {
        sys::napi_get_all_property_names(
            env,
            obj,
            sys::KeyCollectionMode::own_only,
            sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
            sys::KeyConversion::numbers_to_strings,
            &mut names,
        )
    })?;
    let mut len = 0u32;
    check(unsafe { sys::napi_get_array_length(env, names, &mut len) })?;
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let mut key = ptr::null_mut();
        check_js(env, unsafe { sys::napi_get_element(env, names, i, &mut key) })?;
        let mut value = ptr::null_mut();
        check_js(env, unsafe { sys::napi_get_property(env, obj, key, &mut value) })?;
        let name = string_utf8(env, key)?;
        out.push((key, name.to_string(), value));
    }
    Ok(out)
}

/// `obj[name]` if `name` is an own property, else `None`: options are never read through the
/// prototype chain (a polluted `Object.prototype.iv` must not fix everyone's IV).
pub fn get_own_named(env: RawEnv, obj: RawValue, name: &str) -> Result<Option<RawValue>, CryptoError> {
    let key = create_string(env, name)?;
    let mut own = false;
    check_js(env, unsafe { sys::napi_has_own_property(env, obj, key, &mut own) })?;
    if !own {
        return Ok(None);
    }
    let mut value = ptr::null_mut();
    check_js(env, unsafe { sys::napi_get_property(env, obj, key, &mut value) })?;
    Ok(Some(value))
}

pub fn uint8_array_len(env: RawEnv, v: RawValue) -> Result<usize, CryptoError> {
    let mut kind = 0;
    let mut len = 0usize;
    check(unsafe { sys::napi_get_typedarray_info(env, v, &mut kind, &mut len, ptr::null_mut(), ptr::null_mut(), ptr::null_mut()) })?;
    Ok(len)
}

/// The bytes of a `Uint8Array`, copied after `room` zero bytes (one copy, room for a header).
pub fn uint8_array_bytes_with_room(env: RawEnv, v: RawValue, room: usize) -> Result<Vec<u8>, CryptoError> {
    let mut kind = 0;
    let mut len = 0usize;
    let mut data = ptr::null_mut();
    check(unsafe { sys::napi_get_typedarray_info(env, v, &mut kind, &mut len, &mut data, ptr::null_mut(), ptr::null_mut()) })?;
    let mut out = crate::error::try_vec(room.saturating_add(len))?;
    out.resize(room, 0);
    if len > 0 && !data.is_null() {
        // SAFETY: N-API reports `len` bytes at `data` for a Uint8Array; they are copied at once.
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) });
    }
    Ok(out)
}

/// The bytes of a `Uint8Array` (or `Buffer`), copied.
pub fn uint8_array_bytes(env: RawEnv, v: RawValue) -> Result<Vec<u8>, CryptoError> {
    let mut kind = 0;
    let mut len = 0usize;
    let mut data = ptr::null_mut();
    check(unsafe { sys::napi_get_typedarray_info(env, v, &mut kind, &mut len, &mut data, ptr::null_mut(), ptr::null_mut()) })?;
    if len == 0 || data.is_null() {
        return Ok(Vec::new());
    }
    let mut out = crate::error::try_vec(len)?;
    // SAFETY: N-API reports `len` bytes at `data` for a Uint8Array; they are copied at once.
    out.extend_from_slice(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) });
    Ok(out)
}

/// `Object(value)`: what `Object.entries` iterates for a primitive.
pub fn coerce_to_object(env: RawEnv, v: RawValue) -> Result<RawValue, CryptoError> {
    let mut out = ptr::null_mut();
    check_js(env, unsafe { sys::napi_coerce_to_object(env, v, &mut out) })?;
    Ok(out)
}

/// A `Uint8Array` (a `Buffer` is one).
pub fn is_uint8_array(env: RawEnv, v: RawValue) -> bool {
    let mut is_typed = false;
    if unsafe { sys::napi_is_typedarray(env, v, &mut is_typed) } != sys::Status::napi_ok || !is_typed {
        return false;
    }
    let mut kind = 0;
    let mut len = 0usize;
    let status = unsafe {
        sys::napi_get_typedarray_info(env, v, &mut kind, &mut len, ptr::null_mut(), ptr::null_mut(), ptr::null_mut())
    };
    status == sys::Status::napi_ok && kind == sys::TypedarrayType::uint8_array
}

/// `obj[key] = value`, with assignment semantics (as the legacy code's `out[key] = value`).
pub fn set_property(env: RawEnv, obj: RawValue, key: RawValue, value: RawValue) -> Result<(), CryptoError> {
    check_js(env, unsafe { sys::napi_set_property(env, obj, key, value) })
}

pub fn set_named(env: RawEnv, obj: RawValue, key: &str, value: RawValue) -> Result<(), CryptoError> {
    let k = create_string(env, key)?;
    set_property(env, obj, k, value)
}

/// Call `JSON.stringify` or `JSON.parse` of the global JSON, so the result is V8's to the letter.
/// A JavaScript exception is cleared and reported as `Err(None)`: its message may quote the input.
pub fn call_json(env: RawEnv, method: &str, arg: RawValue) -> Result<RawValue, Option<CryptoError>> {
    let mut global = ptr::null_mut();
    check(unsafe { sys::napi_get_global(env, &mut global) }).map_err(Some)?;
    let json_key = create_string(env, "JSON").map_err(Some)?;
    let mut json = ptr::null_mut();
    check_js(env, unsafe { sys::napi_get_property(env, global, json_key, &mut json) }).map_err(Some)?;
    if !matches!(type_of(env, json), Ok(sys::ValueType::napi_object)) {
        return Err(Some(CryptoError::new(ErrorCode::InvalidArgValue, "The global JSON object is missing")));
    }
    let method_key = create_string(env, method).map_err(Some)?;
    let mut func = ptr::null_mut();
    check_js(env, unsafe { sys::napi_get_property(env, json, method_key, &mut func) }).map_err(Some)?;
    if !matches!(type_of(env, func), Ok(sys::ValueType::napi_function)) {
        return Err(Some(CryptoError::new(ErrorCode::InvalidArgValue, "The global JSON object is missing its methods")));
    }
    let mut result = ptr::null_mut();
    let status = unsafe { sys::napi_call_function(env, json, func, 1, &arg, &mut result) };
    if status == sys::Status::napi_ok {
        return Ok(result);
    }
    if clear_pending_exception(env) {
        return Err(None);
    }
    Err(Some(engine_error()))
}

/// A strong reference that keeps a JS value alive while work runs on the libuv pool.
/// Created and used only on the JS thread; the pool thread only moves it.
pub struct PinnedValue {
    env: RawEnv,
    reference: sys::napi_ref,
}

// SAFETY: the reference is only dereferenced and deleted on the JS thread (in `resolve`), which is
// where it was created; the pool thread merely carries the pointer.
unsafe impl Send for PinnedValue {}

impl PinnedValue {
    pub fn new(env: RawEnv, value: RawValue) -> Result<Self, CryptoError> {
        let mut reference = ptr::null_mut();
        check(unsafe { sys::napi_create_reference(env, value, 1, &mut reference) })?;
        Ok(PinnedValue { env, reference })
    }

    /// The value, releasing the reference. Call on the JS thread.
    pub fn take(self) -> Result<RawValue, CryptoError> {
        let mut value = ptr::null_mut();
        let status = unsafe { sys::napi_get_reference_value(self.env, self.reference, &mut value) };
        unsafe { sys::napi_delete_reference(self.env, self.reference) };
        check(status)?;
        Ok(value)
    }
}

/// A listener on an `AbortSignal` that sets a flag the pool thread polls. Registered with
/// `signal.addEventListener('abort', …)` (not `onabort`, which the caller may own), and removed
/// when the operation settles, so a long-lived signal does not collect one entry per call.
pub struct AbortListener {
    pub flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    signal: PinnedValue,
    listener: PinnedValue,
}

unsafe extern "C" fn on_abort(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    let mut data = ptr::null_mut();
    unsafe { sys::napi_get_cb_info(env, info, ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), &mut data) };
    if !data.is_null() {
        // SAFETY: `data` is the Arc leaked for this function, alive until its finalizer runs.
        unsafe { &*data.cast::<std::sync::atomic::AtomicBool>() }.store(true, std::sync::atomic::Ordering::Release);
    }
    ptr::null_mut()
}

unsafe extern "C" fn drop_flag(_env: sys::napi_env, data: *mut std::ffi::c_void, _hint: *mut std::ffi::c_void) {
    drop(unsafe { std::sync::Arc::from_raw(data.cast::<std::sync::atomic::AtomicBool>()) });
}

impl AbortListener {
    /// Listen on `signal` (an object with a boolean `aborted` and `addEventListener`, as Node's own
    /// APIs accept). Already aborted: the flag starts set.
    pub fn attach(env: RawEnv, signal: RawValue) -> Result<Self, CryptoError> {
        let not_a_signal = || arg_type_error("options.signal", "an instance of AbortSignal", env, signal);
        if !matches!(type_of(env, signal), Ok(sys::ValueType::napi_object)) {
            return Err(not_a_signal());
        }
        let aborted = get_property_js(env, signal, "aborted")?;
        if !matches!(type_of(env, aborted), Ok(sys::ValueType::napi_boolean)) {
            return Err(not_a_signal());
        }
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(truthy(env, aborted)?));
        let data = std::sync::Arc::into_raw(std::sync::Arc::clone(&flag)) as *mut std::ffi::c_void;
        let mut listener = ptr::null_mut();
        let name = "onAxisorCryptoAbort";
        if unsafe { sys::napi_create_function(env, name.as_ptr().cast(), name.len() as isize, Some(on_abort), data, &mut listener) }
            != sys::Status::napi_ok
            || unsafe { sys::napi_add_finalizer(env, listener, data, Some(drop_flag), ptr::null_mut(), ptr::null_mut()) }
                != sys::Status::napi_ok
        {
            drop(unsafe { std::sync::Arc::from_raw(data.cast::<std::sync::atomic::AtomicBool>()) });
            return Err(engine_error());
        }
        call_method(env, signal, "addEventListener", &[create_string(env, "abort")?, listener]).map_err(|_| not_a_signal())?;
        Ok(AbortListener { flag, signal: PinnedValue::new(env, signal)?, listener: PinnedValue::new(env, listener)? })
    }

    /// Remove the listener (on the JS thread, when the operation settles).
    pub fn detach(self) {
        let env = self.signal.env;
        if let (Ok(signal), Ok(listener)) = (self.signal.take(), self.listener.take()) {
            if let Ok(abort) = create_string(env, "abort") {
                let _ = call_method(env, signal, "removeEventListener", &[abort, listener]);
            }
        }
    }
}

fn get_property_js(env: RawEnv, obj: RawValue, name: &str) -> Result<RawValue, CryptoError> {
    let key = create_string(env, name)?;
    let mut value = ptr::null_mut();
    check_js(env, unsafe { sys::napi_get_property(env, obj, key, &mut value) })?;
    Ok(value)
}

/// `obj[name](...args)`; a throwing method becomes our error (its exception is cleared).
fn call_method(env: RawEnv, obj: RawValue, name: &str, args: &[RawValue]) -> Result<RawValue, CryptoError> {
    let func = get_property_js(env, obj, name)?;
    if !matches!(type_of(env, func), Ok(sys::ValueType::napi_function)) {
        return Err(engine_error());
    }
    let mut out = ptr::null_mut();
    check_js(env, unsafe { sys::napi_call_function(env, obj, func, args.len(), args.as_ptr(), &mut out) })?;
    Ok(out)
}

/// Build the Error we throw: `TypeError` for argument types, `Error` otherwise, with `code`.
/// `message` overrides the error's own message (the legacy services' fixed messages) and the
/// detailed error then becomes `cause`. `fields` names failed credential fields (never values).
pub fn build_error(
    env: RawEnv,
    err: &CryptoError,
    message: Option<&str>,
    fields: Option<&[String]>,
) -> Result<RawValue, CryptoError> {
    // A leftover exception would make every call below fail and the error undeliverable.
    clear_pending_exception(env);
    let code = create_string(env, err.code.as_str())?;
    let msg = create_string(env, message.unwrap_or(&err.message))?;
    let mut out = ptr::null_mut();
    let status = if err.code.is_type_error() {
        unsafe { sys::napi_create_type_error(env, code, msg, &mut out) }
    } else {
        unsafe { sys::napi_create_error(env, code, msg, &mut out) }
    };
    check(status)?;
    if err.code == ErrorCode::Aborted {
        // Node's own AbortError: name 'AbortError', code 'ABORT_ERR'.
        let name = create_string(env, "AbortError")?;
        set_named(env, out, "name", name)?;
    }
    if message.is_some() {
        let cause = build_error(env, err, None, None)?;
        set_named(env, out, "cause", cause)?;
    }
    if let Some(fields) = fields {
        let mut arr = ptr::null_mut();
        check(unsafe { sys::napi_create_array_with_length(env, fields.len(), &mut arr) })?;
        for (i, f) in fields.iter().enumerate() {
            let s = create_string(env, f)?;
            check(unsafe { sys::napi_set_element(env, arr, i as u32, s) })?;
        }
        set_named(env, out, "fields", arr)?;
    }
    Ok(out)
}
