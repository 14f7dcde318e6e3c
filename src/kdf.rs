//! Key derivation (scrypt as the legacy code called it) and the process-wide cache of derived keys.
//!
//! The legacy code ran a 16 MiB scrypt on every call. Here each (password, salt) pair is derived
//! once and its expanded cipher state kept. The cache is indexed by a keyed SHA-256 fingerprint of
//! the password under a random per-process secret, so no password is stored, and a memory dump
//! of the index alone does not allow an offline guess at the password.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use aes::cipher::KeyInit;
use aes::Aes256;
use aes_gcm::aead::consts::U16;
use aes_gcm::AesGcm;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{CryptoError, ErrorCode, Result};

/// AES-256-GCM with the legacy 16-byte IV (GCM hashes a non-96-bit IV into its counter block).
pub type Aes256Gcm16 = AesGcm<Aes256, U16>;

/// The salts the legacy code passed to scrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacySalt {
    /// `"salt"`: AuthService, the credential maps, the `Encrypted` decorator and FileEncryptionService.
    Salt,
    /// `"axisor-salt"`: SecureStorageService.
    AxisorSalt,
}

impl LegacySalt {
    pub const fn bytes(self) -> &'static [u8] {
        match self {
            LegacySalt::Salt => b"salt",
            LegacySalt::AxisorSalt => b"axisor-salt",
        }
    }

    const fn tag(self) -> u8 {
        match self {
            LegacySalt::Salt => 1,
            LegacySalt::AxisorSalt => 2,
        }
    }
}

/// A 256-bit key derived by scrypt. Zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DerivedKey([u8; 32]);

impl DerivedKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        DerivedKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// scrypt with explicit parameters (`log_n` = log2 N), for known-answer tests and tools.
/// Invalid parameters give `ERR_INVALID_ARG_VALUE`.
pub fn scrypt_raw(password: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32, out: &mut [u8]) -> Result<()> {
    let bad = |_| CryptoError::new(ErrorCode::InvalidArgValue, "Invalid scrypt parameters");
    let params = scrypt::Params::new(log_n, r, p).map_err(bad)?;
    scrypt::scrypt(password, salt, &params, out)
        .map_err(|_| CryptoError::new(ErrorCode::InvalidArgValue, "Invalid scrypt output length"))
}

/// Node's scrypt defaults, which the legacy code used: N = 16384, r = 8, p = 1, 32-byte output.
pub fn scrypt_node_defaults(password: &[u8], salt: &[u8]) -> DerivedKey {
    // log2(16384) = 14; these parameters are statically valid.
    let params = scrypt::Params::new(14, 8, 1).expect("static scrypt parameters are valid");
    let mut out = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut out).expect("32 bytes is a valid scrypt output length");
    let key = DerivedKey(out);
    out.zeroize();
    key
}

/// The expanded cipher state of one derived key: what every format needs, built once.
/// The `aes` and `aes-gcm` crates zeroize their round keys and GHASH key on drop.
pub struct KeyMaterial {
    aes: Aes256,
    gcm16: Aes256Gcm16,
}

impl KeyMaterial {
    pub fn new(key: &DerivedKey) -> Self {
        let aes = Aes256::new(key.as_bytes().into());
        let gcm16 = Aes256Gcm16::from(aes.clone());
        KeyMaterial { aes, gcm16 }
    }

    /// Derive with the legacy scrypt parameters, without the cache.
    pub fn derive(password: &[u8], salt: LegacySalt) -> Self {
        Self::new(&scrypt_node_defaults(password, salt.bytes()))
    }

    pub fn aes(&self) -> &Aes256 {
        &self.aes
    }

    pub fn gcm16(&self) -> &Aes256Gcm16 {
        &self.gcm16
    }
}

type Fingerprint = [u8; 32];

/// Entries kept at most; a process uses a handful of keys, so on overflow the cache is simply
/// emptied rather than tracking recency.
const MAX_ENTRIES: usize = 256;

struct KeyCache {
    secret: Zeroizing<[u8; 32]>,
    entries: RwLock<HashMap<Fingerprint, Arc<KeyMaterial>>>,
}

fn cache() -> Result<&'static KeyCache> {
    static CACHE: OnceLock<KeyCache> = OnceLock::new();
    if let Some(c) = CACHE.get() {
        return Ok(c);
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    crate::rng::fill_random(&mut secret[..])?;
    Ok(CACHE.get_or_init(|| KeyCache { secret, entries: RwLock::new(HashMap::new()) }))
}

fn fingerprint(secret: &[u8; 32], password: &[u8], salt: LegacySalt) -> Fingerprint {
    let mut h = Sha256::new();
    h.update(secret);
    h.update([salt.tag()]);
    h.update((password.len() as u64).to_le_bytes());
    h.update(password);
    h.finalize().into()
}

/// The key material for `password` under `salt`, derived on first use and cached after.
/// The first call for a password runs scrypt (~50 ms, 16 MiB): call it off the JS thread.
pub fn cached_key(password: &[u8], salt: LegacySalt) -> Result<Arc<KeyMaterial>> {
    let cache = cache()?;
    let fp = fingerprint(&cache.secret, password, salt);
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    if let Some(k) = cache.entries.read().unwrap_or_else(|e| e.into_inner()).get(&fp) {
        return Ok(Arc::clone(k));
    }
    let material = Arc::new(KeyMaterial::derive(password, salt));
    let mut entries = cache.entries.write().unwrap_or_else(|e| e.into_inner());
    if entries.len() >= MAX_ENTRIES {
        entries.clear();
    }
    Ok(Arc::clone(entries.entry(fp).or_insert(material)))
}

/// Forget every cached key. Entries still in use by a running operation are dropped (and
/// zeroized) when it finishes.
pub fn clear_key_cache() {
    if let Ok(cache) = cache() {
        cache.entries.write().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// How many keys are cached (for tests and diagnostics).
pub fn cached_key_count() -> usize {
    cache().map(|c| c.entries.read().unwrap_or_else(|e| e.into_inner()).len()).unwrap_or(0)
}
