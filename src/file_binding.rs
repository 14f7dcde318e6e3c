//! The exports of the file format (the legacy `FileEncryptionService`): streaming file
//! encryption on the libuv pool with progress and cancellation, and the same format in memory.

use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{sys, Env, JsValue, Result};
use napi_derive::napi;

use crate::args;
use crate::error::{CryptoError, ErrorCode};
use crate::file_format::{self, FileControl};
use crate::js::{self, RawEnv, RawValue};
use crate::kdf::{KeySource, LegacySalt};
use crate::ops::{Failure, Job, JsAny, Operation};
use crate::sodium_ops::AbortFlag;

/// Options of the file functions (read by hand from own properties; this type is for the typings).
#[napi(object, object_to_js = false)]
pub struct FileOptions {
    /// A fixed 16-byte IV (encryption only). For known-answer tests only: never reuse an IV.
    pub iv: Option<napi::bindgen_prelude::Uint8Array>,
    /// Cancels the operation: the Promise rejects with an `AbortError` (`code: 'ABORT_ERR'`);
    /// no partial output is left and the original is untouched.
    pub signal: Option<napi::bindgen_prelude::AbortSignal>,
    /// Called with `(bytesDone, bytesTotal)` at most about ten times a second, and once more
    /// with `bytesDone === bytesTotal` before the Promise resolves. Exceptions it throws are ignored.
    #[napi(ts_type = "(bytesDone: number, bytesTotal: number) => void")]
    pub on_progress: Option<napi::bindgen_prelude::Function<'static, (f64, f64), ()>>,
}

/// Progress reports from the pool thread to the JS callback, through a thread-safe function.
/// Reports arriving after the final one (made on the JS thread) are dropped.
struct Progress {
    tsfn: sys::napi_threadsafe_function,
    callback: js::PinnedValue,
    finished: Arc<AtomicBool>,
    last: Option<Instant>,
}

// SAFETY: a thread-safe function is made to be called from any thread; the pinned callback is
// only used on the JS thread (in `finish`).
unsafe impl Send for Progress {}

unsafe extern "C" fn call_progress(env: sys::napi_env, callback: sys::napi_value, context: *mut std::ffi::c_void, data: *mut std::ffi::c_void) {
    let (done, total) = *unsafe { Box::from_raw(data.cast::<(f64, f64)>()) };
    // SAFETY: `context` is the `Arc<AtomicBool>` leaked at creation, released in `finalize_progress`.
    let finished = unsafe { &*context.cast::<AtomicBool>() };
    if env.is_null() || callback.is_null() || finished.load(Ordering::Acquire) {
        return;
    }
    call_callback(env, callback, done, total);
}

unsafe extern "C" fn finalize_progress(_env: sys::napi_env, data: *mut std::ffi::c_void, _hint: *mut std::ffi::c_void) {
    drop(unsafe { Arc::from_raw(data.cast::<AtomicBool>()) });
}

fn call_callback(env: RawEnv, callback: RawValue, done: f64, total: f64) {
    let mut args = [ptr::null_mut(); 2];
    let mut undefined = ptr::null_mut();
    unsafe {
        sys::napi_create_double(env, done, &mut args[0]);
        sys::napi_create_double(env, total, &mut args[1]);
        sys::napi_get_undefined(env, &mut undefined);
        let mut result = ptr::null_mut();
        if sys::napi_call_function(env, undefined, callback, 2, args.as_ptr(), &mut result) != sys::Status::napi_ok {
            // A throwing progress callback must not break the operation.
            js::clear_pending_exception(env);
        }
    }
}

impl Progress {
    fn new(env: RawEnv, callback: RawValue) -> std::result::Result<Self, CryptoError> {
        let finished = Arc::new(AtomicBool::new(false));
        let context = Arc::into_raw(Arc::clone(&finished)) as *mut std::ffi::c_void;
        let name = js::create_string(env, "axisor-crypto progress")?;
        let mut tsfn = ptr::null_mut();
        let status = unsafe {
            sys::napi_create_threadsafe_function(
                env, callback, ptr::null_mut(), name, 0, 1, context, Some(finalize_progress), context, Some(call_progress), &mut tsfn,
            )
        };
        if status != sys::Status::napi_ok {
            drop(unsafe { Arc::from_raw(context.cast::<AtomicBool>()) });
            return Err(CryptoError::new(ErrorCode::InvalidArgValue, "Cannot set up the onProgress callback"));
        }
        // The async work keeps the loop alive; the callback must not.
        unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
        Ok(Progress { tsfn, callback: js::PinnedValue::new(env, callback)?, finished, last: None })
    }

    /// From the pool thread: report, at most every 100 ms (the first report at once).
    fn report(&mut self, done: u64, total: u64) {
        let now = Instant::now();
        // The final report is made by `finish`, on the JS thread; later deliveries are dropped.
        if self.last.is_some_and(|t| now.duration_since(t) < Duration::from_millis(100)) || (total > 0 && done >= total) {
            return;
        }
        self.last = Some(now);
        let data = Box::into_raw(Box::new((done as f64, total as f64)));
        let status = unsafe { sys::napi_call_threadsafe_function(self.tsfn, data.cast(), sys::ThreadsafeFunctionCallMode::nonblocking) };
        if status != sys::Status::napi_ok {
            drop(unsafe { Box::from_raw(data) });
        }
    }

    /// On the JS thread: the final report, before the Promise settles; later reports are dropped.
    fn finish(self, env: RawEnv, total: u64) {
        self.finished.store(true, Ordering::Release);
        if let Ok(callback) = self.callback.take() {
            call_callback(env, callback, total as f64, total as f64);
        }
        unsafe { sys::napi_release_threadsafe_function(self.tsfn, sys::ThreadsafeFunctionReleaseMode::release) };
    }

    fn abandon(self) {
        self.finished.store(true, Ordering::Release);
        let _ = self.callback.take();
        unsafe { sys::napi_release_threadsafe_function(self.tsfn, sys::ThreadsafeFunctionReleaseMode::release) };
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    Encrypt,
    Decrypt,
}

/// `FileEncryptionService.encryptFile`/`decryptFile` (and in place: `input == output`).
pub struct FileJob {
    mode: FileMode,
    input: PathBuf,
    output: PathBuf,
    in_place: bool,
    key: KeySource,
    iv: Option<[u8; 16]>,
    abort: Option<AbortFlag>,
    listener: Option<js::AbortListener>,
    progress: Option<Progress>,
}

impl Operation for FileJob {
    type Output = u64;

    fn run(&mut self) -> std::result::Result<u64, Failure> {
        let key = self.key.key()?;
        // What the last report said was processed: the final report repeats it (a file that
        // shrank while it was read ends at what was read, not at its size when opened).
        let mut total = 0u64;
        let progress = &mut self.progress;
        let mut report = |done: u64, all: u64| {
            total = done;
            if let Some(p) = progress.as_mut() {
                p.report(done, all);
            }
        };
        let ctl = FileControl { abort: self.abort.as_deref(), progress: Some(&mut report) };
        match self.mode {
            FileMode::Encrypt => {
                let iv = match self.iv {
                    Some(iv) => iv,
                    None => crate::rng::random_iv()?,
                };
                file_format::encrypt_file(&key, &iv, &self.input, &self.output, self.in_place, ctl)?
            }
            FileMode::Decrypt => file_format::decrypt_file(&key, &self.input, &self.output, self.in_place, ctl)?,
        }
        Ok(total)
    }

    fn to_js(&mut self, env: RawEnv, total: u64) -> std::result::Result<RawValue, Failure> {
        if let Some(p) = self.progress.take() {
            p.finish(env, total);
        }
        let mut undefined = ptr::null_mut();
        unsafe { sys::napi_get_undefined(env, &mut undefined) };
        Ok(undefined)
    }

    fn release(&mut self) {
        if let Some(p) = self.progress.take() {
            p.abandon();
        }
        if let Some(listener) = self.listener.take() {
            listener.detach();
        }
    }
}

fn path_arg(v: &Unknown, name: &str) -> std::result::Result<PathBuf, CryptoError> {
    let path = args::utf8(v, name)?;
    if path.is_empty() || path.contains('\0') {
        return Err(CryptoError::new(ErrorCode::InvalidArgValue, format!("The \"{name}\" argument must be a non-empty path without NUL bytes")));
    }
    Ok(PathBuf::from(path.as_str()))
}

fn progress_option(options: Option<&Unknown>) -> std::result::Result<Option<Progress>, CryptoError> {
    let Some(options) = options else { return Ok(None) };
    let (env, raw) = (options.value().env, options.raw());
    if js::is_nullish(env, raw) || !matches!(js::type_of(env, raw), Ok(sys::ValueType::napi_object)) {
        return Ok(None);
    }
    match js::get_own_named(env, raw, "onProgress")? {
        None => Ok(None),
        Some(f) if js::is_nullish(env, f) => Ok(None),
        Some(f) if matches!(js::type_of(env, f), Ok(sys::ValueType::napi_function)) => Ok(Some(Progress::new(env, f)?)),
        Some(f) => Err(js::arg_type_error("options.onProgress", "a function", env, f)),
    }
}

fn file_job(mode: FileMode, input: &Unknown, output: Option<&Unknown>, password: &Unknown, options: Option<&Unknown>) -> Job<FileJob> {
    Job::new((|| {
        let input_path = path_arg(input, if output.is_some() { "inputPath" } else { "path" })?;
        let (output_path, in_place) = match output {
            Some(o) => (path_arg(o, "outputPath")?, false),
            None => (input_path.clone(), true),
        };
        let key = args::password(password, LegacySalt::Salt)?;
        let opts = args::options(options)?;
        let iv = args::fixed_iv(opts.bytes("iv")?)?;
        if iv.is_some() && mode == FileMode::Decrypt {
            return Err(CryptoError::new(ErrorCode::InvalidArgValue, "The iv option is for encryption only"));
        }
        let progress = progress_option(options)?;
        // Last: once attached, the listener must be detached on every path (a job that is never
        // built would leave it, and the signal it pins, registered for good).
        let listener = match crate::sodium_binding::abort_listener(options) {
            Ok(listener) => listener,
            Err(e) => {
                if let Some(p) = progress {
                    p.abandon();
                }
                return Err(e);
            }
        };
        let abort = listener.as_ref().map(|l| Arc::clone(&l.flag));
        Ok(FileJob { mode, input: input_path, output: output_path, in_place, key, iv, abort, listener, progress })
    })())
}

/// Encrypts a file as the legacy `FileEncryptionService.encryptFile`: `iv(16) ‖ tag(16) ‖
/// AES-256-GCM ciphertext`, key = scrypt(password, "salt") (cached). Streams in 1 MiB chunks on
/// the libuv pool; writes a temporary file beside the destination, then fsync, atomic rename,
/// directory fsync. A destination that is a symlink is followed.
#[napi(ts_args_type = "inputPath: string, outputPath: string, password: string, options?: FileOptions", ts_return_type = "Promise<void>")]
pub fn encrypt_file(input_path: Unknown, output_path: Unknown, password: Unknown, options: Option<Unknown>) -> AsyncTask<Job<FileJob>> {
    AsyncTask::new(file_job(FileMode::Encrypt, &input_path, Some(&output_path), &password, options.as_ref()))
}

/// Decrypts a file written by `encryptFile` or the legacy service. The plaintext goes to a
/// temporary file that is renamed into place only after the tag verifies (`ERR_AUTH_FAILED`
/// otherwise, and nothing is created or replaced). Input shorter than 32 bytes: `ERR_INVALID_FORMAT`.
#[napi(ts_args_type = "inputPath: string, outputPath: string, password: string, options?: FileOptions", ts_return_type = "Promise<void>")]
pub fn decrypt_file(input_path: Unknown, output_path: Unknown, password: Unknown, options: Option<Unknown>) -> AsyncTask<Job<FileJob>> {
    AsyncTask::new(file_job(FileMode::Decrypt, &input_path, Some(&output_path), &password, options.as_ref()))
}

/// `encryptFile(path, path)`, crash-safe: a kill at any moment leaves the original or the whole
/// result; the permission bits are kept.
#[napi(ts_args_type = "path: string, password: string, options?: FileOptions", ts_return_type = "Promise<void>")]
pub fn encrypt_file_in_place(path: Unknown, password: Unknown, options: Option<Unknown>) -> AsyncTask<Job<FileJob>> {
    AsyncTask::new(file_job(FileMode::Encrypt, &path, None, &password, options.as_ref()))
}

/// `decryptFile(path, path)`, crash-safe, permission bits kept.
#[napi(ts_args_type = "path: string, password: string, options?: FileOptions", ts_return_type = "Promise<void>")]
pub fn decrypt_file_in_place(path: Unknown, password: Unknown, options: Option<Unknown>) -> AsyncTask<Job<FileJob>> {
    AsyncTask::new(file_job(FileMode::Decrypt, &path, None, &password, options.as_ref()))
}

/// The file format in memory. Encryption copies the input once, into the buffer that becomes
/// the result (encrypted in place, so no plaintext copy is left); decryption likewise. Results
/// are handed to JavaScript without another copy.
pub struct BufferJob {
    mode: FileMode,
    /// Encrypt: header room + plaintext; decrypt: the whole input. Taken by `run`.
    data: Vec<u8>,
    key: KeySource,
    iv: Option<[u8; 16]>,
}

impl Drop for BufferJob {
    fn drop(&mut self) {
        // Only a job that never ran still holds its input (plaintext when encrypting).
        zeroize::Zeroize::zeroize(&mut self.data);
    }
}

impl Operation for BufferJob {
    /// The bytes and where the result starts in them (after the header, when decrypting).
    type Output = (Vec<u8>, usize);

    fn run(&mut self) -> std::result::Result<Self::Output, Failure> {
        let key = self.key.key()?;
        let mut data = std::mem::take(&mut self.data);
        match self.mode {
            FileMode::Encrypt => {
                let iv = match self.iv {
                    Some(iv) => iv,
                    None => crate::rng::random_iv()?,
                };
                file_format::encrypt_in_place(&key, &iv, &mut data)?;
                Ok((data, 0))
            }
            FileMode::Decrypt => {
                let result = file_format::decrypt_in_place(&key, &mut data);
                if let Err(e) = result {
                    zeroize::Zeroize::zeroize(&mut data); // unverified plaintext
                    return Err(e.into());
                }
                Ok((data, file_format::HEADER_BYTES))
            }
        }
    }

    fn to_js(&mut self, env: RawEnv, (bytes, start): Self::Output) -> std::result::Result<RawValue, Failure> {
        external_buffer(env, bytes, start, self.mode == FileMode::Decrypt).map_err(Failure::from)
    }
}

unsafe extern "C" fn free_buffer(_env: sys::napi_env, _data: *mut std::ffi::c_void, hint: *mut std::ffi::c_void) {
    // SAFETY: `hint` is the Box leaked by `external_buffer` for this very buffer.
    let (mut bytes, secret) = *unsafe { Box::from_raw(hint.cast::<(Vec<u8>, bool)>()) };
    if secret {
        zeroize::Zeroize::zeroize(&mut bytes);
    }
}

/// A Buffer over `bytes[start..]` without copying; freed (and wiped, if `secret`) when JS
/// collects it.
fn external_buffer(env: RawEnv, mut bytes: Vec<u8>, start: usize, secret: bool) -> std::result::Result<RawValue, CryptoError> {
    let mut value = ptr::null_mut();
    if bytes.len() <= start {
        zeroize::Zeroize::zeroize(&mut bytes);
        let mut data = ptr::null_mut();
        let status = unsafe { sys::napi_create_buffer(env, 0, &mut data, &mut value) };
        return if status == sys::Status::napi_ok { Ok(value) } else { Err(CryptoError::new(ErrorCode::InvalidArgValue, "Cannot allocate the result Buffer")) };
    }
    // Node's largest Buffer (buffer.constants.MAX_LENGTH on 64-bit): checked here so that a
    // failed hand-over (whose finalizer Node may already have run) cannot happen.
    if bytes.len() - start > MAX_BUFFER_LENGTH {
        zeroize::Zeroize::zeroize(&mut bytes);
        return Err(buffer_too_large());
    }
    if !secret && bytes.len() - start <= COPY_RESULT_MAX {
        // A short public result (ciphertext) is cheaper copied into a Buffer that Node owns and
        // frees itself than handed over with a finalizer, which Node only runs after the event
        // loop turns (a loop of small calls would pile them up, each holding fresh memory).
        let mut data = ptr::null_mut();
        let status = unsafe { sys::napi_create_buffer_copy(env, bytes.len() - start, bytes[start..].as_ptr().cast(), &mut data, &mut value) };
        return if status == sys::Status::napi_ok { Ok(value) } else { Err(CryptoError::new(ErrorCode::InvalidArgValue, "Cannot allocate the result Buffer")) };
    }
    let boxed = Box::new((bytes, secret));
    // SAFETY: `start < len`; the pointer stays valid while the Box lives (until `free_buffer`).
    let (ptr_, len) = (unsafe { boxed.0.as_ptr().add(start) } as *mut std::ffi::c_void, boxed.0.len() - start);
    let hint = Box::into_raw(boxed);
    let status = unsafe { sys::napi_create_external_buffer(env, len, ptr_, Some(free_buffer), hint.cast(), &mut value) };
    if status != sys::Status::napi_ok {
        // Whether Node ran the finalizer is unknown: the memory is left alone (a leak beats a
        // double free). The size check above makes this path unreachable in practice.
        return Err(CryptoError::new(ErrorCode::InvalidArgValue, "Cannot create the result Buffer"));
    }
    Ok(value)
}

/// Public results up to this size are copied into a Node-owned Buffer (see `external_buffer`).
const COPY_RESULT_MAX: usize = 64 << 10;

/// 2^32 bytes: Node 20's `buffer.constants.MAX_LENGTH` on 64-bit platforms.
const MAX_BUFFER_LENGTH: usize = 1 << 32;

fn buffer_too_large() -> CryptoError {
    CryptoError::new(ErrorCode::BufferTooLarge, format!("Cannot create a Buffer larger than {MAX_BUFFER_LENGTH} bytes"))
}

fn buffer_job(mode: FileMode, data: &Unknown, password: &Unknown, options: Option<&Unknown>) -> Job<BufferJob> {
    Job::new((|| {
        let (env, raw) = (data.value().env, data.raw());
        if !js::is_uint8_array(env, raw) {
            return Err(js::arg_type_error("data", "a Buffer or Uint8Array", env, raw));
        }
        if mode == FileMode::Encrypt && js::uint8_array_len(env, raw)? + file_format::HEADER_BYTES > MAX_BUFFER_LENGTH {
            return Err(buffer_too_large()); // before any copy or work
        }
        let key = args::password(password, LegacySalt::Salt)?;
        let iv = if mode == FileMode::Encrypt { args::fixed_iv(args::options(options)?.bytes("iv")?)? } else { None };
        let header = if mode == FileMode::Encrypt { file_format::HEADER_BYTES } else { 0 };
        let data = js::uint8_array_bytes_with_room(env, raw, header)?;
        Ok(BufferJob { mode, data, key, iv })
    })())
}

/// `iv ‖ tag ‖ ciphertext` of `data` in memory (the file format).
#[napi(ts_args_type = "data: Uint8Array, password: string, options?: { iv?: Uint8Array }", ts_return_type = "Buffer")]
pub fn encrypt_buffer(env: Env, data: Unknown, password: Unknown, options: Option<Unknown>) -> Result<JsAny> {
    buffer_job(FileMode::Encrypt, &data, &password, options.as_ref()).run_sync(env)
}

/// `encryptBuffer` on the libuv pool.
#[napi(ts_args_type = "data: Uint8Array, password: string, options?: { iv?: Uint8Array }", ts_return_type = "Promise<Buffer>")]
pub fn encrypt_buffer_async(data: Unknown, password: Unknown, options: Option<Unknown>) -> AsyncTask<Job<BufferJob>> {
    AsyncTask::new(buffer_job(FileMode::Encrypt, &data, &password, options.as_ref()))
}

/// The plaintext of an `iv ‖ tag ‖ ciphertext` buffer; nothing is returned unless the tag verifies.
#[napi(ts_args_type = "data: Uint8Array, password: string", ts_return_type = "Buffer")]
pub fn decrypt_buffer(env: Env, data: Unknown, password: Unknown) -> Result<JsAny> {
    buffer_job(FileMode::Decrypt, &data, &password, None).run_sync(env)
}

/// `decryptBuffer` on the libuv pool.
#[napi(ts_args_type = "data: Uint8Array, password: string", ts_return_type = "Promise<Buffer>")]
pub fn decrypt_buffer_async(data: Unknown, password: Unknown) -> AsyncTask<Job<BufferJob>> {
    AsyncTask::new(buffer_job(FileMode::Decrypt, &data, &password, None))
}
