//! Error type of the core. Every failure carries a stable code; messages never hold key material,
//! passwords or plaintext (they may hold lengths and field names).

use std::borrow::Cow;
use std::fmt;

/// Stable error codes, exposed to JavaScript as `error.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// An argument has the wrong JavaScript type (thrown as a `TypeError`).
    InvalidArgType,
    /// An argument has the right type but an unusable value.
    InvalidArgValue,
    /// The encrypted string or buffer does not have the expected shape.
    InvalidFormat,
    /// The initialization vector does not decode to the required length.
    InvalidIv,
    /// The GCM authentication tag does not decode to 16 bytes.
    InvalidAuthTag,
    /// CBC decryption failed (wrong key, truncated or corrupted ciphertext).
    BadDecrypt,
    /// GCM authentication failed (wrong key, or tampered data).
    AuthFailed,
    /// An encryption key so weak that the data would be readable by anyone.
    WeakKey,
    /// A key that does not decode to the required length.
    InvalidKey,
    /// The operating system's random number generator failed.
    RandomUnavailable,
    /// A password-hashing salt that is not libsodium base64 of exactly 16 bytes.
    InvalidSalt,
    /// A result longer than V8's longest string.
    StringTooLong,
    /// A result larger than Node's largest Buffer.
    BufferTooLarge,
    /// A file that does not exist (Node's code for it).
    NotFound,
    /// Any other file-system failure.
    FileIo,
    /// The operation was cancelled through its `AbortSignal` (Node's own code for that).
    Aborted,
    /// A bug in this package (a panic caught at the boundary instead of aborting the process).
    Internal,
    /// Memory for an input-sized buffer could not be allocated (Node's own code for that).
    OutOfMemory,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgType => "ERR_INVALID_ARG_TYPE",
            ErrorCode::InvalidArgValue => "ERR_INVALID_ARG_VALUE",
            ErrorCode::InvalidFormat => "ERR_INVALID_FORMAT",
            ErrorCode::InvalidIv => "ERR_INVALID_IV",
            ErrorCode::InvalidAuthTag => "ERR_INVALID_AUTH_TAG",
            ErrorCode::BadDecrypt => "ERR_BAD_DECRYPT",
            ErrorCode::AuthFailed => "ERR_AUTH_FAILED",
            ErrorCode::WeakKey => "ERR_WEAK_KEY",
            ErrorCode::InvalidKey => "ERR_INVALID_KEY",
            ErrorCode::RandomUnavailable => "ERR_RANDOM_UNAVAILABLE",
            ErrorCode::InvalidSalt => "ERR_INVALID_SALT",
            ErrorCode::Aborted => "ABORT_ERR",
            ErrorCode::StringTooLong => "ERR_STRING_TOO_LONG",
            ErrorCode::NotFound => "ENOENT",
            ErrorCode::BufferTooLarge => "ERR_BUFFER_TOO_LARGE",
            ErrorCode::FileIo => "ERR_FILE_IO",
            ErrorCode::Internal => "ERR_INTERNAL",
            ErrorCode::OutOfMemory => "ERR_MEMORY_ALLOCATION_FAILED",
        }
    }

    /// Argument type errors surface as `TypeError`, as Node's own APIs do.
    pub const fn is_type_error(self) -> bool {
        matches!(self, ErrorCode::InvalidArgType)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoError {
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
}

impl CryptoError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        CryptoError { code, message: message.into() }
    }

    /// The message the legacy `decryptData` threw for a string that is not two non-empty `:` parts.
    pub fn invalid_format() -> Self {
        Self::new(ErrorCode::InvalidFormat, "Invalid encrypted data format")
    }

    pub fn invalid_iv() -> Self {
        // Node's own message for the same condition.
        Self::new(ErrorCode::InvalidIv, "Invalid initialization vector")
    }

    pub fn odd_hex(len: usize) -> Self {
        Self::new(
            ErrorCode::InvalidFormat,
            format!("The ciphertext hex has an odd length ({len} characters)"),
        )
    }

    pub fn bad_decrypt() -> Self {
        Self::new(ErrorCode::BadDecrypt, "bad decrypt")
    }

    pub fn wrong_final_block_length() -> Self {
        Self::new(ErrorCode::BadDecrypt, "wrong final block length")
    }

    pub fn auth_failed() -> Self {
        // Node's message for a GCM tag mismatch.
        Self::new(ErrorCode::AuthFailed, "Unsupported state or unable to authenticate data")
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for CryptoError {}

pub type Result<T> = std::result::Result<T, CryptoError>;

/// An empty `Vec` with room for `capacity` items, or `ERR_MEMORY_ALLOCATION_FAILED`: buffers sized
/// by the input are allocated with this, so a huge input under a memory limit is an error, not
/// an abort of the process.
pub fn try_vec<T>(capacity: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(capacity).map_err(|_| out_of_memory(capacity.saturating_mul(std::mem::size_of::<T>())))?;
    Ok(v)
}

pub fn out_of_memory(bytes: usize) -> CryptoError {
    CryptoError::new(ErrorCode::OutOfMemory, format!("Cannot allocate {bytes} bytes"))
}

/// `len` zero bytes, or `ERR_MEMORY_ALLOCATION_FAILED`.
pub fn try_zeroed(len: usize) -> Result<Vec<u8>> {
    let mut v = try_vec(len)?;
    v.resize(len, 0);
    Ok(v)
}
