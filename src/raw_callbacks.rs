//! The hottest sync exports (`encryptData`, `decryptData`, `encryptSecure`, `decryptSecure`),
//! registered once more as plain N-API callbacks when the module loads, over the ones napi-rs
//! generated.
//!
//! napi-rs v3 wraps every generated callback with arguments in a native-borrow scope (a
//! registry behind a Mutex, thread-local pushes and pops, an allocation per call), which guards
//! `&self` borrows of class instances across re-entrant calls. These functions take no class
//! instance and borrow nothing past the call, and the scope was a quarter of the instructions
//! of a 32-byte `decryptData`. The raw callback only reads the arguments and calls the very same
//! `#[napi]` function, so behaviour and typings (generated from the `#[napi]` declarations) are
//! unchanged; a panic becomes a thrown Error instead of an abort.

#![cfg_attr(test, allow(dead_code))] // napi-derive registers the module_exports hook only outside `cargo test`

use std::ptr;

use napi::bindgen_prelude::{JsObjectValue, Object, ToNapiValue, Unknown};
use napi::{sys, Env, Result};
use napi_derive::napi;

use crate::binding;
use crate::error::{CryptoError, ErrorCode};
use crate::ops::JsAny;

/// Read `N` arguments (N-API passes `undefined` for missing ones), call `f`, hand its value or
/// its error to JavaScript.
///
/// # Safety
/// `env` and `info` must be the ones N-API passed to the callback being run.
unsafe fn call<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    f: impl FnOnce(Env, [Unknown<'_>; N]) -> Result<JsAny>,
) -> sys::napi_value {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    let status = unsafe { sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()) };
    if status != sys::Status::napi_ok {
        let e = napi::Error::new(napi::Status::GenericFailure, "Cannot read the arguments");
        unsafe { napi::JsError::from(e).throw_into(env) };
        return ptr::null_mut();
    }
    // SAFETY: each value is a live handle of this callback's scope.
    let args = argv.map(|v| unsafe { Unknown::from_raw_unchecked(env, v) });
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(Env::from_raw(env), args)));
    let result = match outcome {
        Ok(result) => result.and_then(|value| unsafe { JsAny::to_napi_value(env, value) }),
        // No panic is expected on any input; if one happens, it must not abort the process.
        Err(_) => {
            let internal = CryptoError::new(ErrorCode::Internal, "Internal error in @axisor/crypto (a bug: please report it)");
            match crate::js::build_error(env, &internal, None, None) {
                Ok(error) => Err(napi::Error::from(unsafe { Unknown::from_raw_unchecked(env, error) })),
                Err(_) => Err(napi::Error::new(napi::Status::GenericFailure, internal.message.to_string())),
            }
        }
    };
    match result {
        Ok(value) => value,
        Err(e) => {
            unsafe { napi::JsError::from(e).throw_into(env) };
            ptr::null_mut()
        }
    }
}

unsafe extern "C" fn encrypt_data(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unsafe { call::<3>(env, info, |env, [data, password, options]| binding::encrypt_data(env, data, password, Some(options))) }
}

unsafe extern "C" fn decrypt_data(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unsafe { call::<2>(env, info, |env, [encrypted, password]| binding::decrypt_data(env, encrypted, password)) }
}

unsafe extern "C" fn encrypt_secure(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unsafe { call::<3>(env, info, |env, [plaintext, key, options]| binding::encrypt_secure(env, plaintext, key, Some(options))) }
}

unsafe extern "C" fn decrypt_secure(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unsafe { call::<2>(env, info, |env, [encrypted, key]| binding::decrypt_secure(env, encrypted, key)) }
}

type RawCallback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// Runs after napi-rs has registered every export (once per loading environment: the main
/// thread and each worker).
#[napi(module_exports)]
pub fn install_raw_callbacks(mut exports: Object, env: Env) -> Result<()> {
    let callbacks: [(&str, RawCallback); 4] = [
        ("encryptData", encrypt_data),
        ("decryptData", decrypt_data),
        ("encryptSecure", encrypt_secure),
        ("decryptSecure", decrypt_secure),
    ];
    for (name, callback) in callbacks {
        let mut function = ptr::null_mut();
        let status = unsafe {
            sys::napi_create_function(env.raw(), name.as_ptr().cast(), name.len() as isize, Some(callback), ptr::null_mut(), &mut function)
        };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::new(napi::Status::GenericFailure, format!("Cannot create the function {name}")));
        }
        exports.set_named_property(name, unsafe { Unknown::from_raw_unchecked(env.raw(), function) })?;
    }
    Ok(())
}
