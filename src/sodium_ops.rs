//! The operations behind the libsodium-compatible exports (the legacy `AdvancedCryptoService`),
//! one struct per operation implementing [`Operation`] as in `ops`: `run` is the work (inline
//! for the sync export, on the libuv pool for the async one) and `to_js` builds the JS value.
//! Inputs were copied into owned memory by the binding; secrets are zeroized on drop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::argon2id::{self, SALT_BYTES};
use crate::base64_sodium;
use crate::error::{CryptoError, ErrorCode};
use crate::js::{self, RawEnv, RawValue};
use crate::ops::{check_output_len, Failure, Operation};
use crate::xchacha::{self, EncryptionResult, MasterKey, KEY_BYTES, NONCE_BYTES};

fn string_to_js(env: RawEnv, s: &str) -> Result<RawValue, Failure> {
    js::create_string(env, s).map_err(Failure::from)
}

/// `AdvancedCryptoService.encrypt`.
pub struct XchachaEncrypt {
    pub data: Zeroizing<String>,
    pub key: MasterKey,
    /// A fixed nonce (known-answer tests); `None` draws a fresh one.
    pub nonce: Option<[u8; NONCE_BYTES]>,
}

impl Operation for XchachaEncrypt {
    type Output = EncryptionResult;

    fn run(&mut self) -> Result<EncryptionResult, Failure> {
        // The ciphertext (data and tag) in unpadded base64 must fit a JavaScript string.
        check_output_len((4 * (self.data.len() + 16)).div_ceil(3))?;
        Ok(xchacha::encrypt_to_result(&self.key, self.data.as_bytes(), self.nonce)?)
    }

    fn to_js(&mut self, env: RawEnv, out: EncryptionResult) -> Result<RawValue, Failure> {
        let obj = js::create_object(env)?;
        for (name, value) in [("ciphertext", &out.ciphertext), ("nonce", &out.nonce), ("tag", &out.tag)] {
            let v = string_to_js(env, value)?;
            js::set_named(env, obj, name, v)?;
        }
        Ok(obj)
    }
}

/// The intended `AdvancedCryptoService.decrypt`.
pub struct XchachaDecrypt {
    /// Public data, kept as the code units JavaScript held.
    pub ciphertext: Vec<u16>,
    pub nonce: Vec<u16>,
    pub key: MasterKey,
}

impl Operation for XchachaDecrypt {
    type Output = Zeroizing<String>;

    fn run(&mut self) -> Result<Zeroizing<String>, Failure> {
        Ok(xchacha::decrypt_result(&self.key, &self.ciphertext, &self.nonce)?)
    }

    fn to_js(&mut self, env: RawEnv, out: Zeroizing<String>) -> Result<RawValue, Failure> {
        string_to_js(env, &out)
    }
}

/// `AdvancedCryptoService.generateKey`: 32 bytes from the OS CSPRNG, libsodium base64.
pub struct GenerateKey;

impl Operation for GenerateKey {
    type Output = Zeroizing<String>;

    fn run(&mut self) -> Result<Zeroizing<String>, Failure> {
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        crate::rng::fill_random(&mut key[..])?;
        Ok(Zeroizing::new(base64_sodium::to_base64(&key[..])))
    }

    fn to_js(&mut self, env: RawEnv, out: Zeroizing<String>) -> Result<RawValue, Failure> {
        string_to_js(env, &out)
    }
}

/// Set from the JS thread when the caller's `AbortSignal` fires; read by the pool thread.
pub type AbortFlag = Arc<AtomicBool>;

fn aborted() -> CryptoError {
    // Node's own message and code for an aborted operation.
    CryptoError::new(ErrorCode::Aborted, "The operation was aborted")
}

/// How many async derivations may compute at once: one core fewer than the process may use
/// (at least one), so the JavaScript thread always has a core. Each derivation is CPU- and
/// memory-bound (64 MiB); running more of them than there are free cores adds no throughput,
/// only event-loop delay and memory. The others wait (without spinning) on their pool thread.
struct DerivationSlots {
    max: usize,
    used: Mutex<usize>,
    freed: Condvar,
}

fn slots() -> &'static DerivationSlots {
    static SLOTS: OnceLock<DerivationSlots> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        DerivationSlots { max: cores.saturating_sub(1).max(1), used: Mutex::new(0), freed: Condvar::new() }
    })
}

struct Slot(&'static DerivationSlots);

impl Drop for Slot {
    fn drop(&mut self) {
        *lock(&self.0.used) -= 1;
        self.0.freed.notify_one();
    }
}

fn lock(m: &Mutex<usize>) -> MutexGuard<'_, usize> {
    // A poisoned lock only means another thread panicked holding it; the count is still right.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wait for a derivation slot; an abort while waiting gives up the wait.
fn acquire_slot(abort: Option<&AbortFlag>) -> Result<Slot, CryptoError> {
    let slots = slots();
    let mut used = lock(&slots.used);
    loop {
        if abort.is_some_and(|f| f.load(Ordering::Acquire)) {
            return Err(aborted());
        }
        if *used < slots.max {
            *used += 1;
            return Ok(Slot(slots));
        }
        // Woken by a freed slot; the timeout only bounds how late an abort is noticed.
        used = slots.freed.wait_timeout(used, Duration::from_millis(20)).unwrap_or_else(|e| e.into_inner()).0;
    }
}

/// `AdvancedCryptoService.deriveKeyFromPassword`.
pub struct DeriveKey {
    pub password: Zeroizing<String>,
    pub salt: [u8; SALT_BYTES],
    pub abort: Option<AbortFlag>,
    /// The signal listener, removed when the derivation settles.
    pub listener: Option<js::AbortListener>,
    /// Take a derivation slot first (the async export; the sync one runs on the JS thread).
    pub limit: bool,
}

impl DeriveKey {
    fn is_aborted(&self) -> bool {
        self.abort.as_ref().is_some_and(|f| f.load(Ordering::Acquire))
    }
}

impl Operation for DeriveKey {
    type Output = Zeroizing<String>;

    fn run(&mut self) -> Result<Zeroizing<String>, Failure> {
        // Aborted while queued: never start. The hash itself cannot be interrupted; aborted while
        // it ran, its result is dropped (and wiped) instead of returned.
        if self.is_aborted() {
            return Err(aborted().into());
        }
        let _slot = if self.limit { Some(acquire_slot(self.abort.as_ref())?) } else { None };
        let key = argon2id::derive_key_from_password(self.password.as_bytes(), &self.salt)?;
        if self.is_aborted() {
            return Err(aborted().into());
        }
        Ok(key)
    }

    fn release(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.detach();
        }
    }

    fn to_js(&mut self, env: RawEnv, out: Zeroizing<String>) -> Result<RawValue, Failure> {
        // Aborted after the work finished but before the promise settled.
        if self.is_aborted() {
            return Err(aborted().into());
        }
        string_to_js(env, &out)
    }
}
