//! Where product images are kept: the [`MediaStore`] trait, a filesystem implementation, and
//! the check that an upload really is an image (by its first bytes, never by its name or the
//! type the client claims).

use std::{
    fmt,
    io::ErrorKind,
    path::{Path, PathBuf},
};

use async_trait::async_trait;
use bytes::Bytes;
use pochi_core::{Error, ImageRef, Result};

/// A stored file and its content type.
#[derive(Clone, PartialEq, Eq)]
pub struct MediaObject {
    /// The bytes.
    pub bytes: Bytes,
    /// The content type (`image/webp`).
    pub content_type: String,
}

impl fmt::Debug for MediaObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaObject")
            .field("len", &self.bytes.len())
            .field("content_type", &self.content_type)
            .finish()
    }
}

/// Keeps uploaded files under keys such as `products/{productId}/{random}.webp`.
///
/// # Contract
///
/// - Keys have been checked by [`ImageRef::parse`]: relative, no `..`, a small alphabet.
/// - `put` replaces nothing the shop still refers to (keys are fresh) and is visible to `get`
///   once it returns.
/// - `get` returns `Ok(None)` for a key it does not have.
#[async_trait]
pub trait MediaStore: fmt::Debug + Send + Sync + 'static {
    /// Stores `bytes` under `key`.
    async fn put(&self, key: &ImageRef, bytes: Bytes, content_type: &str) -> Result<()>;

    /// The file under `key`, if there is one.
    async fn get(&self, key: &ImageRef) -> Result<Option<MediaObject>>;
}

/// Files in a directory; the content type comes back from the file's extension.
#[derive(Debug, Clone)]
pub struct FsMediaStore {
    dir: PathBuf,
}

impl FsMediaStore {
    /// Media under `dir` (created on the first upload).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FsMediaStore { dir: dir.into() }
    }

    fn path(&self, key: &ImageRef) -> PathBuf {
        // ImageRef keys are relative and free of `..`, so the path stays inside `dir`.
        self.dir.join(key.as_str())
    }
}

fn io_error(err: std::io::Error) -> Error {
    match err.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            Error::storage_full("the disk of the media directory is full", err)
        }
        _ => Error::backend("media store", err),
    }
}

#[async_trait]
impl MediaStore for FsMediaStore {
    async fn put(&self, key: &ImageRef, bytes: Bytes, _content_type: &str) -> Result<()> {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io_error)?;
        }
        // Write beside, then rename: a reader never sees half a file.
        let partial = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple()));
        if let Err(err) = tokio::fs::write(&partial, &bytes).await {
            // A full disk leaves part of the file: take it back.
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(io_error(err));
        }
        if let Err(err) = tokio::fs::rename(&partial, &path).await {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(io_error(err));
        }
        Ok(())
    }

    async fn get(&self, key: &ImageRef) -> Result<Option<MediaObject>> {
        let path = self.path(key);
        let Some(kind) = ImageKind::from_path(&path) else {
            return Ok(None);
        };
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(MediaObject {
                bytes: Bytes::from(bytes),
                content_type: kind.content_type().to_owned(),
            })),
            Err(err) if matches!(err.kind(), ErrorKind::NotFound | ErrorKind::IsADirectory) => {
                Ok(None)
            }
            Err(err) => Err(io_error(err)),
        }
    }
}

/// The image formats the shop accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// GIF.
    Gif,
}

impl ImageKind {
    /// The format `bytes` are in, judged by their magic numbers.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(ImageKind::Jpeg),
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(ImageKind::Png),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Some(ImageKind::Webp),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(ImageKind::Gif),
            _ => None,
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Webp => "webp",
            ImageKind::Gif => "gif",
        }
    }

    /// The content type.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
            ImageKind::Gif => "image/gif",
        }
    }

    fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "jpg" => Some(ImageKind::Jpeg),
            "png" => Some(ImageKind::Png),
            "webp" => Some(ImageKind::Webp),
            "gif" => Some(ImageKind::Gif),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_first_bytes() {
        assert_eq!(
            ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a\x01\0"), Some(ImageKind::Gif));
        assert_eq!(ImageKind::sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(ImageKind::sniff(b"<svg xmlns="), None);
        assert_eq!(ImageKind::sniff(b""), None);
    }

    #[tokio::test]
    async fn files_round_trip_through_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsMediaStore::new(dir.path());
        let key = ImageRef::parse("products/p1/abc.png").unwrap();
        store
            .put(
                &key,
                Bytes::from_static(b"\x89PNG\r\n\x1a\nrest"),
                "image/png",
            )
            .await
            .unwrap();
        let object = store.get(&key).await.unwrap().unwrap();
        assert_eq!(object.content_type, "image/png");
        assert_eq!(&object.bytes[..], b"\x89PNG\r\n\x1a\nrest");
        let missing = ImageRef::parse("products/p1/none.png").unwrap();
        assert_eq!(store.get(&missing).await.unwrap(), None);
    }
}
