//! Key derivation (scrypt as the legacy code called it) and the process-wide cache of derived keys.
//!
//! The legacy code ran a 16 MiB scrypt on every call. Here each (password, salt) pair is derived
//! once and its expanded cipher state kept. The cache is indexed by a keyed fingerprint
//! (SipHash-1-3, 128-bit, under a random per-process secret) of the password: no password is
//! stored, and the index alone says nothing about one without that secret.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use aes::Aes256;
use aes_gcm::aead::consts::U16;
use aes_gcm::AesGcm;
use siphasher::sip128::{Hasher128, SipHasher13};
use std::hash::Hasher;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{CryptoError, ErrorCode, Result};
use crate::gcm_stream::GcmKey;

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
/// The `aes` and `aes-gcm` crates zeroize their round keys and GHASH key on drop, and so does
/// `GcmKey` its fast kernel's schedule and hash key powers.
pub struct KeyMaterial {
    stream: GcmKey,
    gcm16: Aes256Gcm16,
}

impl KeyMaterial {
    pub fn new(key: &DerivedKey) -> Self {
        let stream = GcmKey::new(key.as_bytes());
        let gcm16 = Aes256Gcm16::from(stream.aes().clone());
        KeyMaterial { stream, gcm16 }
    }

    /// Derive with the legacy scrypt parameters, without the cache.
    pub fn derive(password: &[u8], salt: LegacySalt) -> Self {
        DERIVATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self::new(&scrypt_node_defaults(password, salt.bytes()))
    }

    pub fn aes(&self) -> &Aes256 {
        self.stream.aes()
    }

    /// The key of the streaming GCM (the file format).
    pub fn gcm_stream(&self) -> &GcmKey {
        &self.stream
    }

    pub fn gcm16(&self) -> &Aes256Gcm16 {
        &self.gcm16
    }
}

/// A keyed fingerprint of (salt, password): the cache index. Not the password, and not
/// reversible without the per-process secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 16]);

/// Entries kept at most; a process uses a handful of keys, so on overflow the cache is simply
/// emptied rather than tracking recency.
const MAX_ENTRIES: usize = 256;

/// The fingerprint is already uniformly random: hash maps need not hash it again.
#[derive(Default)]
struct FingerprintHasher(u64);

impl std::hash::Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= (*b as u64) << (8 * i);
        }
    }
}

/// One cache entry: filled once, by the first thread that needs it; concurrent callers for the
/// same key wait for that result instead of running the same 16 MiB scrypt again (a burst of
/// requests at start-up would otherwise derive it once per pool thread).
type Slot = Arc<OnceLock<Arc<KeyMaterial>>>;

type Entries = HashMap<Fingerprint, Slot, std::hash::BuildHasherDefault<FingerprintHasher>>;

struct KeyCache {
    secret: Zeroizing<[u8; 16]>,
    entries: RwLock<Entries>,
}

fn cache() -> Result<&'static KeyCache> {
    static CACHE: OnceLock<KeyCache> = OnceLock::new();
    if let Some(c) = CACHE.get() {
        return Ok(c);
    }
    let mut secret = Zeroizing::new([0u8; 16]);
    crate::rng::fill_random(&mut secret[..])?;
    Ok(CACHE.get_or_init(|| KeyCache { secret, entries: RwLock::new(Entries::default()) }))
}

impl Fingerprint {
    /// SipHash-1-3 with a 128-bit output, keyed by the per-process secret: a PRF built for
    /// exactly this (a table index that nobody can steer or invert without the key), and ~20 ns
    /// on a short password where SHA-256 costs ~100 ns on every call.
    pub fn of(password: &[u8], salt: LegacySalt) -> Result<Self> {
        let cache = cache()?;
        let mut h = SipHasher13::new_with_key(&cache.secret);
        h.write_u8(salt.tag());
        h.write_usize(password.len());
        h.write(password);
        Ok(Fingerprint(h.finish128().as_bytes()))
    }
}

/// Key derivations run by this process (for diagnostics and tests).
static DERIVATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn derivations_performed() -> u64 {
    DERIVATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

/// The cached key material for a fingerprint, if derived. Never waits: callable on the JS thread.
pub fn lookup(fp: &Fingerprint) -> Option<Arc<KeyMaterial>> {
    let cache = cache().ok()?;
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    cache.entries.read().unwrap_or_else(|e| e.into_inner()).get(fp).and_then(|slot| slot.get().cloned())
}

/// The entry for `fp`, created empty if there is none.
fn slot(fp: Fingerprint) -> Result<Slot> {
    let cache = cache()?;
    if let Some(slot) = cache.entries.read().unwrap_or_else(|e| e.into_inner()).get(&fp) {
        return Ok(Arc::clone(slot));
    }
    let mut entries = cache.entries.write().unwrap_or_else(|e| e.into_inner());
    if entries.len() >= MAX_ENTRIES && !entries.contains_key(&fp) {
        entries.clear();
    }
    Ok(Arc::clone(entries.entry(fp).or_default()))
}

/// The key material for `password` under `salt`, derived on first use and cached after.
/// The first call for a password runs scrypt (~50 ms, 16 MiB): call it off the JS thread.
/// Concurrent first calls for one password derive it once; the others wait for it.
pub fn cached_key(password: &[u8], salt: LegacySalt) -> Result<Arc<KeyMaterial>> {
    let fp = Fingerprint::of(password, salt)?;
    if let Some(k) = lookup(&fp) {
        return Ok(k);
    }
    let slot = slot(fp)?;
    Ok(Arc::clone(slot.get_or_init(|| Arc::new(KeyMaterial::derive(password, salt)))))
}

/// Where an operation gets its key: already found in the cache on the JS thread, or a password
/// (zeroized on drop) to derive from, off the JS thread.
pub enum KeySource {
    Cached(Arc<KeyMaterial>),
    Password(Zeroizing<Vec<u8>>, LegacySalt),
}

impl KeySource {
    /// Look the password up now; copy it only when it must be derived later.
    pub fn new(password: &[u8], salt: LegacySalt) -> Result<Self> {
        let fp = Fingerprint::of(password, salt)?;
        Ok(match lookup(&fp) {
            Some(k) => KeySource::Cached(k),
            None => KeySource::Password(Zeroizing::new(password.to_vec()), salt),
        })
    }

    pub fn key(&self) -> Result<Arc<KeyMaterial>> {
        match self {
            KeySource::Cached(k) => Ok(Arc::clone(k)),
            KeySource::Password(pw, salt) => cached_key(pw, *salt),
        }
    }
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
    cache().map(|c| c.entries.read().unwrap_or_else(|e| e.into_inner()).values().filter(|s| s.get().is_some()).count()).unwrap_or(0)
}
