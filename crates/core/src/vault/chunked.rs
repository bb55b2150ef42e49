//! Values of any size over a store whose entries are size-limited (Windows:
//! 2560 bytes), by splitting into numbered chunk entries.
//!
//! Layout of the entry at `user`:
//! - `=` followed by the value, when it fits in one entry;
//! - `#{gen}.{count}` (a header), with the value in entries
//!   `{user}#{gen}.0` .. `{user}#{gen}.{count-1}`.
//!
//! A rewrite puts its chunks in the other generation (`gen` flips 0/1) and
//! only then switches the header, so a crash mid-write leaves the old value
//! readable instead of a mix of old and new chunks. The old generation's
//! chunks are removed afterwards, so a shorter value leaves nothing stale.

use zeroize::Zeroizing;

use super::backend::Backend;
use super::error::VaultError;

/// The smallest usable entry limit: a header must fit in one entry.
pub const MIN_ENTRY_BYTES: usize = 16;

const INLINE: u8 = b'=';
const HEADER: u8 = b'#';

/// Where a value's chunks live, as recorded in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Chunks {
    generation: u8,
    count: usize,
}

fn chunk_user(user: &str, generation: u8, index: usize) -> String {
    format!("{user}#{generation}.{index}")
}

fn corrupt(user: &str, detail: impl Into<String>) -> VaultError {
    VaultError::Corrupt {
        entry: user.to_string(),
        detail: detail.into(),
    }
}

/// Reads the header of `user`, if the entry holds one.
fn parse_header(user: &str, raw: &[u8]) -> Result<Option<Chunks>, VaultError> {
    match raw.first() {
        Some(&INLINE) => Ok(None),
        Some(&HEADER) => {
            let text = std::str::from_utf8(&raw[1..]).map_err(|_| corrupt(user, "bad header"))?;
            let (generation, count) = text
                .split_once('.')
                .and_then(|(g, c)| Some((g.parse::<u8>().ok()?, c.parse::<usize>().ok()?)))
                .filter(|(g, c)| *g <= 1 && *c > 0)
                .ok_or_else(|| corrupt(user, "bad header"))?;
            Ok(Some(Chunks { generation, count }))
        }
        _ => Err(corrupt(user, "unknown entry format")),
    }
}

/// The value stored at `user`, reassembled from its chunks if split.
pub(crate) fn read(
    backend: &dyn Backend,
    user: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
    let Some(raw) = backend.get(user)? else {
        return Ok(None);
    };
    let Some(chunks) = parse_header(user, &raw)? else {
        return Ok(Some(Zeroizing::new(raw[1..].to_vec())));
    };
    let mut value = Zeroizing::new(Vec::new());
    for index in 0..chunks.count {
        let part = backend
            .get(&chunk_user(user, chunks.generation, index))?
            .ok_or_else(|| {
                corrupt(
                    user,
                    format!("chunk {} of {} is missing", index + 1, chunks.count),
                )
            })?;
        value.extend_from_slice(&part);
    }
    Ok(Some(value))
}

/// Stores `value` at `user`, splitting it when longer than `max_entry_bytes`.
pub(crate) fn write(
    backend: &dyn Backend,
    user: &str,
    value: &[u8],
    max_entry_bytes: usize,
) -> Result<(), VaultError> {
    // A damaged old header must not block replacing the value.
    let old = match backend.get(user)? {
        Some(raw) => parse_header(user, &raw).unwrap_or(None),
        None => None,
    };
    if value.len() < max_entry_bytes {
        let mut inline = Zeroizing::new(Vec::with_capacity(value.len() + 1));
        inline.push(INLINE);
        inline.extend_from_slice(value);
        backend.set(user, &inline)?;
    } else {
        let generation = old.map_or(0, |c| 1 - c.generation);
        let parts: Vec<&[u8]> = value.chunks(max_entry_bytes).collect();
        for (index, part) in parts.iter().enumerate() {
            backend.set(&chunk_user(user, generation, index), part)?;
        }
        let header = format!("{}{generation}.{}", HEADER as char, parts.len());
        backend.set(user, header.as_bytes())?;
    }
    if let Some(old) = old {
        remove_chunks(backend, user, old)?;
    }
    Ok(())
}

/// Removes `user` and all its chunks. Chunks go first, so an interrupted
/// delete leaves a header that reads as corrupt (and can be deleted again)
/// rather than orphaned secret chunks nothing points to.
pub(crate) fn delete(backend: &dyn Backend, user: &str) -> Result<(), VaultError> {
    if let Some(raw) = backend.get(user)? {
        if let Ok(Some(chunks)) = parse_header(user, &raw) {
            remove_chunks(backend, user, chunks)?;
        }
        backend.delete(user)?;
    }
    Ok(())
}

fn remove_chunks(backend: &dyn Backend, user: &str, chunks: Chunks) -> Result<(), VaultError> {
    for index in 0..chunks.count {
        backend.delete(&chunk_user(user, chunks.generation, index))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::memory::MemoryBackend;
    use super::*;

    fn stored(backend: &MemoryBackend, user: &str) -> Option<Vec<u8>> {
        read(backend, user).unwrap().map(|v| v.to_vec())
    }

    #[test]
    fn a_short_value_is_one_inline_entry() {
        let backend = MemoryBackend::default();
        write(&backend, "u", b"hello", 16).unwrap();
        assert_eq!(backend.users(), ["u"]);
        assert_eq!(stored(&backend, "u").unwrap(), b"hello");
    }

    #[test]
    fn a_long_value_is_split_and_reassembled() {
        let backend = MemoryBackend::default();
        let value: Vec<u8> = (0..40u8).collect();
        write(&backend, "u", &value, 16).unwrap();
        assert_eq!(backend.users(), ["u", "u#0.0", "u#0.1", "u#0.2"]);
        assert_eq!(stored(&backend, "u").unwrap(), value);
    }

    #[test]
    fn a_value_of_exactly_the_limit_is_split() {
        // The inline marker takes one byte, so 16 bytes need a header.
        let backend = MemoryBackend::default();
        write(&backend, "u", &[7; 16], 16).unwrap();
        assert_eq!(backend.users(), ["u", "u#0.0"]);
        write(&backend, "u", &[7; 15], 16).unwrap();
        assert_eq!(backend.users(), ["u"]);
    }

    #[test]
    fn rewrites_flip_generation_and_leave_no_stale_chunks() {
        let backend = MemoryBackend::default();
        write(&backend, "u", &[1; 64], 16).unwrap();
        write(&backend, "u", &[2; 20], 16).unwrap();
        assert_eq!(backend.users(), ["u", "u#1.0", "u#1.1"]);
        assert_eq!(stored(&backend, "u").unwrap(), vec![2; 20]);
        write(&backend, "u", &[3; 48], 16).unwrap();
        assert_eq!(backend.users(), ["u", "u#0.0", "u#0.1", "u#0.2"]);
        write(&backend, "u", b"short", 16).unwrap();
        assert_eq!(backend.users(), ["u"]);
        assert_eq!(stored(&backend, "u").unwrap(), b"short");
    }

    #[test]
    fn a_missing_chunk_is_corrupt_not_a_panic() {
        let backend = MemoryBackend::default();
        write(&backend, "u", &[1; 40], 16).unwrap();
        backend.remove_raw("u#0.1");
        let err = read(&backend, "u").unwrap_err();
        assert!(matches!(err, VaultError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("chunk 2 of 3 is missing"), "{err}");
        // It can still be deleted (and overwritten) cleanly.
        delete(&backend, "u").unwrap();
        assert!(backend.users().is_empty());
    }

    #[test]
    fn damaged_headers_are_corrupt_and_replaceable() {
        let backend = MemoryBackend::default();
        for raw in [&b""[..], b"x", b"#", b"#2.1", b"#0.0", b"#0.x", b"#\xff"] {
            backend.set("u", raw).unwrap();
            let err = read(&backend, "u").unwrap_err();
            assert!(matches!(err, VaultError::Corrupt { .. }), "{raw:?}");
            write(&backend, "u", b"fresh", 16).unwrap();
            assert_eq!(stored(&backend, "u").unwrap(), b"fresh");
        }
    }

    #[test]
    fn delete_removes_header_and_chunks() {
        let backend = MemoryBackend::default();
        write(&backend, "u", &[1; 100], 16).unwrap();
        write(&backend, "v", b"keep", 16).unwrap();
        delete(&backend, "u").unwrap();
        delete(&backend, "absent").unwrap();
        assert_eq!(backend.users(), ["v"]);
    }
}
