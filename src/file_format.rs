//! The FileEncryptionService format: `iv(16) ‖ tag(16) ‖ AES-256-GCM ciphertext`, key =
//! scrypt(utf8(password), "salt"). In memory (`encrypt_buffer`/`decrypt_buffer`) and streamed
//! through files in constant memory, crash-safe:
//!
//! - output goes to a uniquely named temporary file beside the destination (`create_new`, so a
//!   stale file or a second process never collides), which is fsynced, renamed over the
//!   destination atomically, and the directory fsynced: a crash leaves the old file or the whole
//!   new one, never a torn one;
//! - encryption writes the header with a placeholder tag and patches the tag in at the end;
//! - decryption releases nothing unverified: the plaintext is renamed into place only after the
//!   tag verifies; on failure the temporary file is removed;
//! - in place keeps the original's permission bits; a destination that is a symlink is followed
//!   (the target is replaced, the link stays a link).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use zeroize::Zeroizing;

use crate::error::{CryptoError, ErrorCode, Result};
use crate::gcm_stream::{GcmDecryptor, GcmEncryptor};
use crate::kdf::KeyMaterial;

pub const HEADER_BYTES: usize = 32;
/// Streaming chunk: large enough for full-speed crypto and I/O, small enough for constant memory.
pub const CHUNK_BYTES: usize = 1 << 20;

/// `iv ‖ tag ‖ ct` of `data`.
pub fn encrypt_buffer(key: &KeyMaterial, iv: &[u8; 16], data: &[u8]) -> Result<Vec<u8>> {
    let mut out = crate::error::try_vec(HEADER_BYTES + data.len())?;
    out.extend_from_slice(iv);
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(data);
    let mut enc = GcmEncryptor::new(key.gcm_stream(), iv);
    enc.update(&mut out[HEADER_BYTES..])?;
    out[16..32].copy_from_slice(&enc.finish());
    Ok(out)
}

/// Encrypt in place: `buf` is `[32 bytes of room] ‖ plaintext` and becomes `iv ‖ tag ‖ ct`.
pub fn encrypt_in_place(key: &KeyMaterial, iv: &[u8; 16], buf: &mut [u8]) -> Result<()> {
    if buf.len() < HEADER_BYTES {
        return Err(too_short(buf.len() as u64));
    }
    buf[..16].copy_from_slice(iv);
    let mut enc = GcmEncryptor::new(key.gcm_stream(), iv);
    enc.update(&mut buf[HEADER_BYTES..])?;
    buf[16..32].copy_from_slice(&enc.finish());
    Ok(())
}

/// Decrypt in place: the plaintext replaces the ciphertext after the 32-byte header (which is
/// left as it was). On failure the buffer holds unverified plaintext: the caller must wipe it.
pub fn decrypt_in_place(key: &KeyMaterial, buf: &mut [u8]) -> Result<()> {
    let (iv, tag, _) = split_header(buf)?;
    let mut dec = GcmDecryptor::new(key.gcm_stream(), &iv);
    dec.update(&mut buf[HEADER_BYTES..])?;
    dec.finish(&tag)
}

fn split_header(data: &[u8]) -> Result<([u8; 16], [u8; 16], &[u8])> {
    if data.len() < HEADER_BYTES {
        return Err(too_short(data.len() as u64));
    }
    let iv: [u8; 16] = data[..16].try_into().expect("16 bytes");
    let tag: [u8; 16] = data[16..32].try_into().expect("16 bytes");
    Ok((iv, tag, &data[HEADER_BYTES..]))
}

fn too_short(len: u64) -> CryptoError {
    CryptoError::new(
        ErrorCode::InvalidFormat,
        format!("Encrypted data must be at least {HEADER_BYTES} bytes (IV and tag), got {len}"),
    )
}

/// The plaintext of `iv ‖ tag ‖ ct`; nothing is returned unless the tag verifies.
pub fn decrypt_buffer(key: &KeyMaterial, data: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let (iv, tag, ct) = split_header(data)?;
    let mut out = Zeroizing::new(crate::error::try_vec(ct.len())?);
    out.extend_from_slice(ct);
    let mut dec = GcmDecryptor::new(key.gcm_stream(), &iv);
    dec.update(&mut out)?;
    dec.finish(&tag)?;
    Ok(out)
}

/// Controls of a file operation: cancellation (checked between chunks) and progress reports.
#[derive(Default)]
pub struct FileControl<'a> {
    pub abort: Option<&'a AtomicBool>,
    pub progress: Option<&'a mut dyn FnMut(u64, u64)>,
}

impl FileControl<'_> {
    fn check_abort(&self) -> Result<()> {
        match self.abort {
            Some(a) if a.load(Ordering::Acquire) => Err(CryptoError::new(ErrorCode::Aborted, "The operation was aborted")),
            _ => Ok(()),
        }
    }

    fn report(&mut self, done: u64, total: u64) {
        if let Some(p) = self.progress.as_mut() {
            p(done, total);
        }
    }
}

pub fn io_error(err: io::Error, what: &str, path: &Path) -> CryptoError {
    let code = match err.kind() {
        io::ErrorKind::NotFound => ErrorCode::NotFound,
        _ => ErrorCode::FileIo,
    };
    CryptoError::new(code, format!("{what} '{}': {err}", path.display()))
}

/// Symlinks followed at most (the kernel's ELOOP limit).
const MAX_LINKS: usize = 40;

/// The file a destination path names, and its permission bits if it exists: a symlink is
/// followed (to its final target), so the rename replaces the target and the link stays a link.
/// Only a regular file (or nothing) may be replaced: renaming over a FIFO, a device or a socket
/// would silently turn it into a regular file.
fn resolve_destination(path: &Path) -> Result<(PathBuf, Option<u32>)> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&path).map_err(|e| io_error(e, "Cannot read the link", &path))?;
                path = if target.is_absolute() { target } else { path.parent().unwrap_or_else(|| Path::new(".")).join(target) };
            }
            Ok(m) if m.is_file() => return Ok((path, mode_of(&m))),
            Ok(_) => {
                return Err(CryptoError::new(ErrorCode::FileIo, format!("'{}' is not a regular file", path.display())));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((path, None)),
            Err(e) => return Err(io_error(e, "Cannot stat", &path)),
        }
    }
    Err(CryptoError::new(ErrorCode::FileIo, format!("'{}': too many levels of symbolic links", path.display())))
}

fn mode_of(meta: &fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(meta.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// A uniquely named temporary file beside `dest`, removed on drop unless committed.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
    dest: PathBuf,
    /// Permission bits to give the result exactly (set after the data is written: a write by a
    /// process without CAP_FSETID clears setuid/setgid).
    mode: Option<u32>,
}

/// Longest file name (bytes) on Linux, macOS and Windows file systems.
const NAME_MAX: usize = 255;

/// `.{name}.{12 hex}.tmp`, with `name` cut (at a character boundary) so the whole fits NAME_MAX.
fn temp_name(name: &str, random: &str) -> String {
    let room = NAME_MAX - random.len() - ".".len() * 2 - ".tmp".len();
    let mut end = name.len().min(room);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!(".{}.{random}.tmp", &name[..end])
}

impl TempFile {
    fn create(dest: &Path, mode: Option<u32>) -> Result<TempFile> {
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
        for _ in 0..16 {
            let mut rnd = [0u8; 6];
            crate::rng::fill_random(&mut rnd)?;
            let path = dir.join(temp_name(&name, &crate::codec::encode_hex(&rnd)));
            let mut opts = OpenOptions::new();
            opts.write(true).read(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                // As Node's writeFile (0o666 less the umask) until the exact bits are set at commit.
                opts.mode(mode.map_or(0o666, |m| m & 0o777));
            }
            match opts.open(&path) {
                Ok(file) => return Ok(TempFile { path, file: Some(file), dest: dest.to_path_buf(), mode }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_error(e, "Cannot create a temporary file", &path)),
            }
        }
        Err(CryptoError::new(ErrorCode::FileIo, "Cannot create a unique temporary file"))
    }

    fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("open until commit")
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let dest = &self.dest;
        self.file.as_mut().expect("open until commit").write_all(bytes).map_err(|e| io_error(e, "Cannot write", dest))
    }

    /// The exact permission bits, fsync, rename over the destination, fsync the directory.
    fn commit(mut self) -> Result<()> {
        let file = self.file.take().expect("open until commit");
        #[cfg(unix)]
        if let Some(mode) = self.mode {
            use std::os::unix::fs::PermissionsExt;
            // The create mode went through the umask; in place must keep the bits exactly. A file
            // system without Unix modes (vfat, exFAT, some network mounts) refuses: it keeps none.
            match file.set_permissions(fs::Permissions::from_mode(mode)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied || e.raw_os_error() == Some(libc::EOPNOTSUPP) => {}
                Err(e) => return Err(io_error(e, "Cannot set permissions on", &self.path)),
            }
        }
        file.sync_all().map_err(|e| io_error(e, "Cannot flush", &self.path))?;
        drop(file);
        fs::rename(&self.path, &self.dest).map_err(|e| io_error(e, "Cannot rename into", &self.dest))?;
        #[cfg(unix)]
        if let Some(dir) = self.dest.parent() {
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
            // The rename itself must survive a crash: flush the directory entry.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.file.take();
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Open a regular input file. Only a regular file is read: opening a FIFO blocks until a writer
/// comes, and a device (`/dev/zero`) never ends. The open itself is non-blocking, so a FIFO
/// swapped in after any check cannot hang a pool thread; the opened file is what is checked.
fn open_input(path: &Path) -> Result<(File, u64, Option<u32>)> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path).map_err(|e| io_error(e, "Cannot open", path))?;
    let meta = file.metadata().map_err(|e| io_error(e, "Cannot stat", path))?;
    #[cfg(unix)]
    if meta.is_file() {
        use std::os::unix::io::AsRawFd;
        // Regular files ignore O_NONBLOCK; clear it anyway so reads are ordinary blocking reads.
        // SAFETY: fcntl on a descriptor this function owns, with integer arguments.
        unsafe {
            let fd = file.as_raw_fd();
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
    }
    if !meta.is_file() {
        return Err(CryptoError::new(ErrorCode::FileIo, format!("'{}' is not a regular file", path.display())));
    }
    Ok((file, meta.len(), mode_of(&meta)))
}

fn read_full(file: &mut File, buf: &mut [u8], path: &Path) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(e, "Cannot read", path)),
        }
    }
    Ok(n)
}

/// Read `src` to its end in chunks, transform each in place, append it to `tmp`; checks for
/// cancellation and reports progress between chunks. Returns the bytes processed.
fn pump(
    src: &mut File,
    input: &Path,
    tmp: &mut TempFile,
    ctl: &mut FileControl<'_>,
    total: u64,
    mut transform: impl FnMut(&mut [u8]) -> Result<()>,
) -> Result<u64> {
    let mut buf = Zeroizing::new(vec![0u8; CHUNK_BYTES]);
    let mut done = 0u64;
    loop {
        ctl.check_abort()?;
        let n = read_full(src, &mut buf, input)?;
        if n == 0 {
            return Ok(done);
        }
        transform(&mut buf[..n])?;
        tmp.write_all(&buf[..n])?;
        done += n as u64;
        ctl.report(done, total.max(done));
    }
}

/// Encrypt `input` to `output` (the same path for in place). `keep_mode`: give the output the
/// input's permission bits (in place).
pub fn encrypt_file(
    key: &KeyMaterial,
    iv: &[u8; 16],
    input: &Path,
    output: &Path,
    keep_mode: bool,
    mut ctl: FileControl<'_>,
) -> Result<()> {
    let (mut src, total, mode) = open_input(input)?;
    let (dest, dest_mode) = resolve_destination(output)?;
    ctl.check_abort()?;
    // In place keeps the original's bits; an existing destination keeps its own (as the legacy
    // writeFile into it did); a new file gets 0o666 less the umask.
    let mut tmp = TempFile::create(&dest, if keep_mode { mode } else { dest_mode })?;
    let mut header = [0u8; HEADER_BYTES];
    header[..16].copy_from_slice(iv);
    tmp.write_all(&header)?;
    let mut enc = GcmEncryptor::new(key.gcm_stream(), iv);
    pump(&mut src, input, &mut tmp, &mut ctl, total, |chunk| enc.update(chunk))?;
    let tag = enc.finish();
    let f = tmp.file();
    f.seek(SeekFrom::Start(16)).map_err(|e| io_error(e, "Cannot seek", &dest))?;
    f.write_all(&tag).map_err(|e| io_error(e, "Cannot write", &dest))?;
    ctl.check_abort()?;
    tmp.commit()
}

/// Decrypt `input` to `output` (the same path for in place); the destination is touched only
/// after the tag verifies.
pub fn decrypt_file(key: &KeyMaterial, input: &Path, output: &Path, keep_mode: bool, mut ctl: FileControl<'_>) -> Result<()> {
    let (mut src, total, mode) = open_input(input)?;
    let mut header = [0u8; HEADER_BYTES];
    let got = read_full(&mut src, &mut header, input)?;
    if got < HEADER_BYTES {
        return Err(too_short(got as u64));
    }
    let iv: [u8; 16] = header[..16].try_into().expect("16 bytes");
    let tag: [u8; 16] = header[16..].try_into().expect("16 bytes");
    let (dest, dest_mode) = resolve_destination(output)?;
    ctl.check_abort()?;
    let mut tmp = TempFile::create(&dest, if keep_mode { mode } else { dest_mode })?;
    let mut dec = GcmDecryptor::new(key.gcm_stream(), &iv);
    let body = total.saturating_sub(HEADER_BYTES as u64);
    pump(&mut src, input, &mut tmp, &mut ctl, body, |chunk| dec.update(chunk))?;
    // Unverified plaintext sits only in the temporary file, which is removed on failure.
    dec.finish(&tag)?;
    ctl.check_abort()?;
    tmp.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_fit_name_max() {
        let random = "0123456789ab";
        assert_eq!(temp_name("report.pdf", random), ".report.pdf.0123456789ab.tmp");
        for len in [1usize, 200, 237, 238, 254, 255] {
            let name = "n".repeat(len);
            let t = temp_name(&name, random);
            assert!(t.len() <= NAME_MAX, "{len}: {}", t.len());
            assert!(t.ends_with(".0123456789ab.tmp"));
        }
        // Cut at a character boundary: 'é' is two bytes.
        let name = "é".repeat(127);
        let t = temp_name(&name, random);
        assert!(t.len() <= NAME_MAX && t.starts_with(".é"));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_input_is_refused_without_blocking() {
        // Opened directly (no check before the open that a swapped-in FIFO could slip past): the
        // non-blocking open returns at once, and the opened file is refused.
        let dir = std::env::temp_dir().join(format!("axisor-fifo-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("input");
        let _ = fs::remove_file(&fifo);
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = open_input(&fifo).expect_err("a FIFO is not a regular file");
        assert_eq!(err.code, ErrorCode::FileIo);
        fs::remove_dir_all(&dir).unwrap();
    }
}
