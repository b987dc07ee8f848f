//! The chunk assembler: a chunked file put together in the caller's buffer (SPEC.md §16.4).
//!
//! Chunks arrive in any order, before or after the pointer. Each is decoded straight to its
//! place in the buffer; a received-bitmap of fixed size ([`MAX_CHUNKS`] bits) records which are
//! there. SHA-256 runs while the file arrives: whenever the chunks from the hash cursor on are
//! present, they are hashed and the cursor moves, so finalizing hashes at most what is left.
//!
//! Without the pointer the chunk size is learned from the first chunk that is not the last one.
//! Until then a lone last chunk waits at the end of the buffer and moves to its place as soon
//! as the chunk size is known.

use sha2::{Digest, Sha256};

use crate::error::{ChunkFault, Error};
use crate::file_body::{Chunk, FileId, MAX_CHUNKS, MAX_FILE_SIZE, MIN_CHUNK_SIZE, Pointer};

const BITMAP: usize = MAX_CHUNKS as usize / 8;

/// What [`Assembler::add_chunk`] did with a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    /// A chunk not seen before, now in place.
    New,
    /// The same bytes as a chunk already received: ignored.
    Duplicate,
}

/// A chunked file being put together in a caller's buffer.
pub struct Assembler<'b> {
    buf: &'b mut [u8],
    file_id: FileId,
    count: u32,
    chunk_size: Option<u32>,
    last_len: Option<u32>,
    size: Option<u32>,
    sha256: Option<[u8; 32]>,
    received: [u8; BITMAP],
    received_count: u32,
    hashed: u32,
    hasher: Sha256,
    failed: Option<Error>,
}

impl core::fmt::Debug for Assembler<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Assembler")
            .field("file_id", &self.file_id)
            .field("received", &self.received_count)
            .field("count", &self.count)
            .field("chunk_size", &self.chunk_size)
            .field("pointer", &self.sha256.is_some())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl<'b> Assembler<'b> {
    fn empty(buf: &'b mut [u8], file_id: FileId, count: u32) -> Self {
        Self {
            buf,
            file_id,
            count,
            chunk_size: None,
            last_len: None,
            size: None,
            sha256: None,
            received: [0; BITMAP],
            received_count: 0,
            hashed: 0,
            hasher: Sha256::new(),
            failed: None,
        }
    }

    /// Starts from the pointer. `buf` must hold the whole file.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when `buf` is shorter than the file.
    pub fn from_pointer(pointer: &Pointer, buf: &'b mut [u8]) -> Result<Self, Error> {
        let mut a = Self::empty(buf, pointer.file_id, pointer.count);
        a.add_pointer(pointer)?;
        Ok(a)
    }

    /// Starts from a chunk that came before the pointer. `buf` must hold the whole file.
    ///
    /// # Errors
    /// As [`Assembler::add_chunk`].
    pub fn from_chunk(chunk: &Chunk<'_>, buf: &'b mut [u8]) -> Result<Self, Error> {
        let mut a = Self::empty(buf, chunk.file_id, chunk.count);
        a.add_chunk(chunk)?;
        Ok(a)
    }

    /// The transfer's id.
    #[must_use]
    pub const fn file_id(&self) -> FileId {
        self.file_id
    }

    /// `(received, total)` chunks.
    #[must_use]
    pub const fn progress(&self) -> (u32, u32) {
        (self.received_count, self.count)
    }

    /// True once the pointer and every chunk are in: [`Assembler::finalize`] may be called.
    #[must_use]
    pub const fn is_complete(&self) -> bool {
        self.sha256.is_some() && self.received_count == self.count
    }

    /// True once the pointer has arrived.
    #[must_use]
    pub const fn has_pointer(&self) -> bool {
        self.sha256.is_some()
    }

    /// The indices not received yet, in increasing order (for a resend request).
    pub fn missing(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.count).filter(|&i| !self.has(i))
    }

    fn has(&self, index: u32) -> bool {
        self.received
            .get(index as usize / 8)
            .is_some_and(|b| b & (1 << (index % 8)) != 0)
    }

    fn mark(&mut self, index: u32) {
        if let Some(b) = self.received.get_mut(index as usize / 8) {
            *b |= 1 << (index % 8);
        }
    }

    const fn is_last(&self, index: u32) -> bool {
        index + 1 == self.count
    }

    /// Where chunk `index` lives in the buffer, once that is known.
    fn offset(&self, index: u32) -> Option<usize> {
        if index == 0 {
            return Some(0);
        }
        self.chunk_size.map(|cs| index as usize * cs as usize)
    }

    /// Where a last chunk waits while the chunk size is unknown.
    fn parked(&self, len: u32) -> usize {
        self.buf.len().saturating_sub(len as usize)
    }

    /// The span chunk `index` of `len` bytes occupies now.
    fn span(&self, index: u32, len: u32) -> Option<core::ops::Range<usize>> {
        let start = match self.offset(index) {
            Some(off) => off,
            None if self.is_last(index) => self.parked(len),
            None => return None,
        };
        let end = start.checked_add(len as usize)?;
        (end <= self.buf.len()).then_some(start..end)
    }

    /// Adopts a chunk size (from a pointer or a full chunk): checks it against what the chunks
    /// showed and moves a parked last chunk to its place.
    fn learn_chunk_size(&mut self, cs: u32, index: u32, fault: ChunkFault) -> Result<(), Error> {
        let bad = |fault| Error::BadChunk { index, fault };
        let total_min = u64::from(self.count - 1) * u64::from(cs) + 1;
        if (cs < MIN_CHUNK_SIZE && self.count > 1) || total_min > u64::from(MAX_FILE_SIZE) {
            return Err(bad(fault));
        }
        if let Some(last) = self.last_len {
            if last > cs {
                return Err(bad(fault));
            }
        }
        let parked = self.last_len.map(|len| (self.parked(len), len));
        self.chunk_size = Some(cs);
        if let Some((from, len)) = parked {
            if self.count > 1 {
                let to = self.offset(self.count - 1).ok_or(bad(fault))?;
                if to + len as usize > self.buf.len() {
                    self.chunk_size = None;
                    return Err(bad(ChunkFault::NoRoom));
                }
                self.buf.copy_within(from..from + len as usize, to);
            }
        }
        Ok(())
    }

    /// Adds a chunk.
    ///
    /// # Errors
    /// [`Error::BadChunk`] with the fault: another `file_id` ([`ChunkFault::WrongFile`]),
    /// another `n` ([`ChunkFault::WrongCount`]), a length other than the chunk size for a chunk
    /// that is not the last, or than the rest of the file for the last
    /// ([`ChunkFault::WrongLength`]), no room in the buffer ([`ChunkFault::NoRoom`]), or
    /// different bytes under an index already received ([`ChunkFault::Conflict`]).
    ///
    /// Every error but [`ChunkFault::WrongFile`] fails the transfer: from then on every call
    /// returns the same error.
    pub fn add_chunk(&mut self, chunk: &Chunk<'_>) -> Result<Added, Error> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let r = self.add_chunk_inner(chunk);
        self.latch(r)
    }

    fn latch<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = r {
            if !matches!(
                e,
                Error::BadChunk {
                    fault: ChunkFault::WrongFile,
                    ..
                }
            ) {
                self.failed = Some(e);
            }
        }
        r
    }

    /// Why the transfer failed, if it did.
    #[must_use]
    pub const fn failure(&self) -> Option<Error> {
        self.failed
    }

    fn add_chunk_inner(&mut self, chunk: &Chunk<'_>) -> Result<Added, Error> {
        let index = chunk.index;
        let bad = |fault| Error::BadChunk { index, fault };
        if chunk.file_id != self.file_id {
            return Err(bad(ChunkFault::WrongFile));
        }
        if chunk.count != self.count {
            return Err(bad(ChunkFault::WrongCount));
        }
        if index >= self.count {
            return Err(bad(ChunkFault::OutOfRange));
        }
        let len = u32::try_from(chunk.data.len()).map_err(|_| bad(ChunkFault::WrongLength))?;
        if self.has(index) {
            let same = self
                .span(index, len)
                .and_then(|r| self.buf.get(r))
                .is_some_and(|held| chunk.data.eq_bytes(held))
                && Some(len)
                    == if self.is_last(index) {
                        self.last_len
                    } else {
                        self.chunk_size
                    };
            return if same {
                Ok(Added::Duplicate)
            } else {
                Err(bad(ChunkFault::Conflict))
            };
        }
        if self.is_last(index) {
            if let Some(size) = self.size {
                let cs = self.chunk_size.unwrap_or(size);
                if u64::from(len) != u64::from(size) - u64::from(self.count - 1) * u64::from(cs) {
                    return Err(bad(ChunkFault::WrongLength));
                }
            } else if self.chunk_size.is_some_and(|cs| len > cs) {
                return Err(bad(ChunkFault::WrongLength));
            }
        } else {
            match self.chunk_size {
                Some(cs) if cs != len => return Err(bad(ChunkFault::WrongLength)),
                Some(_) => {}
                None => self.learn_chunk_size(len, index, ChunkFault::WrongLength)?,
            }
        }
        let span = self.span(index, len).ok_or(bad(ChunkFault::NoRoom))?;
        let dst = self.buf.get_mut(span).ok_or(bad(ChunkFault::NoRoom))?;
        chunk.data.decode_into(dst)?;
        if self.is_last(index) {
            self.last_len = Some(len);
        }
        self.mark(index);
        self.received_count += 1;
        self.advance_hash();
        Ok(Added::New)
    }

    /// Adds the pointer (when the assembler started from a chunk).
    ///
    /// # Errors
    /// [`Error::BadChunk`] with [`ChunkFault::WrongFile`] for another `file_id`,
    /// [`ChunkFault::WrongCount`] for another `n`, [`ChunkFault::PointerMismatch`] when its
    /// chunk size or size contradicts chunks already received or a pointer already given;
    /// [`Error::TooLarge`] when the buffer is shorter than the file.
    ///
    /// Errors fail the transfer as in [`Assembler::add_chunk`].
    pub fn add_pointer(&mut self, pointer: &Pointer) -> Result<(), Error> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let r = self.add_pointer_inner(pointer);
        self.latch(r)
    }

    fn add_pointer_inner(&mut self, pointer: &Pointer) -> Result<(), Error> {
        let bad = |fault| Error::BadChunk { index: 0, fault };
        if pointer.file_id != self.file_id {
            return Err(bad(ChunkFault::WrongFile));
        }
        if pointer.count != self.count {
            return Err(bad(ChunkFault::WrongCount));
        }
        if let Some(sha) = self.sha256 {
            let same = sha == pointer.sha256
                && self.size == Some(pointer.size)
                && self.chunk_size == Some(pointer.chunk_size);
            return if same {
                Ok(())
            } else {
                Err(bad(ChunkFault::PointerMismatch))
            };
        }
        if (pointer.size as usize) > self.buf.len() {
            return Err(Error::TooLarge {
                limit: self.buf.len(),
            });
        }
        let last_want = pointer.chunk_len(self.count - 1);
        if self.last_len.is_some_and(|l| l != last_want) {
            return Err(bad(ChunkFault::PointerMismatch));
        }
        match self.chunk_size {
            Some(cs) if cs != pointer.chunk_size && self.count > 1 => {
                return Err(bad(ChunkFault::PointerMismatch));
            }
            Some(_) => {}
            None => self.learn_chunk_size(pointer.chunk_size, 0, ChunkFault::PointerMismatch)?,
        }
        self.chunk_size = Some(pointer.chunk_size);
        self.size = Some(pointer.size);
        self.sha256 = Some(pointer.sha256);
        self.advance_hash();
        Ok(())
    }

    /// Hashes the chunks present from the cursor on.
    fn advance_hash(&mut self) {
        while self.hashed < self.count && self.has(self.hashed) {
            let index = self.hashed;
            let len = if self.is_last(index) {
                self.last_len
            } else {
                self.chunk_size
            };
            // the last chunk's place is known once every chunk before it is in (they showed
            // the chunk size), or when it is the only one
            let Some(span) = len.and_then(|len| {
                let start = self.offset(index)?;
                Some(start..start + len as usize)
            }) else {
                return;
            };
            let Some(bytes) = self.buf.get(span) else {
                return;
            };
            self.hasher.update(bytes);
            self.hashed += 1;
        }
    }

    /// Checks the file and returns it.
    ///
    /// # Errors
    /// [`Error::Incomplete`] while the pointer or a chunk is missing; [`Error::HashMismatch`]
    /// when the bytes do not hash to the pointer's `sha256` (the transfer has then failed); the
    /// error that failed the transfer before.
    pub fn finalize(&mut self) -> Result<&[u8], Error> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let (Some(size), Some(sha)) = (self.size, self.sha256) else {
            return Err(Error::Incomplete);
        };
        if self.received_count != self.count {
            return Err(Error::Incomplete);
        }
        self.advance_hash();
        let digest: [u8; 32] = self.hasher.clone().finalize().into();
        if self.hashed != self.count || digest != sha {
            self.failed = Some(Error::HashMismatch);
            return Err(Error::HashMismatch);
        }
        self.buf.get(..size as usize).ok_or(Error::HashMismatch)
    }
}
