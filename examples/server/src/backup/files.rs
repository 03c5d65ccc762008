//! The files a shop keeps beside its database, as one gzip tar archive: the media directory
//! (product images) under `media/`, and the server's few files in the data directory (the
//! generated admin's hash, the callback token, the demo mark) under `data/`.
//!
//! Written with the `tar` and `flate2` crates rather than a `tar` command: no tool to find or
//! to sandbox, the same archive everywhere, and the files counted while they are written.
//! Uploads in progress (`*.partial-*`) are left out.

use std::{
    fs::File,
    io::{self, BufReader, BufWriter},
    path::{Component, Path, PathBuf},
};

use flate2::{Compression, read::GzDecoder, write::GzEncoder};

use super::BackupError;
use crate::datadir;

/// Media files and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct MediaTally {
    pub(super) files: u64,
    pub(super) bytes: u64,
}

/// Archives `media_dir` and the server's files in `data_dir` into `archive`, checks the archive
/// reads back with the same media, and returns the media's tally.
pub(super) fn archive(
    media_dir: &Path,
    data_dir: &Path,
    archive: &Path,
) -> Result<MediaTally, BackupError> {
    let failed = BackupError::io("writing the media archive", archive);
    let file =
        File::create(archive).map_err(BackupError::io("writing the media archive", archive))?;
    let mut builder =
        tar::Builder::new(GzEncoder::new(BufWriter::new(file), Compression::default()));
    builder.follow_symlinks(false);
    let mut tally = MediaTally::default();
    let mut media = Vec::new();
    if media_dir.is_dir() {
        walk(media_dir, Path::new(""), &mut media)
            .map_err(BackupError::io("reading the media directory", media_dir))?;
    }
    let written: io::Result<()> = (|| {
        for relative in &media {
            let path = media_dir.join(relative);
            tally.files += 1;
            tally.bytes += std::fs::metadata(&path)?.len();
            builder.append_path_with_name(&path, Path::new("media").join(relative))?;
        }
        for name in datadir::KEPT_FILES {
            let path = data_dir.join(name);
            if path.is_file() {
                builder.append_path_with_name(&path, Path::new("data").join(name))?;
            }
        }
        let file = builder
            .into_inner()?
            .finish()?
            .into_inner()
            .map_err(|e| e.into_error())?;
        file.sync_all()
    })();
    written.map_err(failed)?;
    let read_back = read(archive)?;
    if read_back != tally {
        return Err(BackupError::Verify {
            what: "media archive",
            detail: format!(
                "{} files of {} bytes read back, {} files of {} bytes written",
                read_back.files, read_back.bytes, tally.files, tally.bytes
            ),
        });
    }
    Ok(tally)
}

/// The media tally of an archive.
fn read(archive: &Path) -> Result<MediaTally, BackupError> {
    let failed = || BackupError::io("reading the media archive", archive);
    let file = File::open(archive).map_err(failed())?;
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let mut tally = MediaTally::default();
    for entry in tar.entries().map_err(failed())? {
        let entry = entry.map_err(failed())?;
        let path = entry.path().map_err(failed())?.into_owned();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        if path.starts_with("media") {
            tally.files += 1;
            tally.bytes += entry.header().size().map_err(failed())?;
        }
    }
    Ok(tally)
}

/// Files under `dir` (relative paths), sorted, without uploads in progress.
fn walk(root: &Path, relative: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(relative))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let path = relative.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() && !name.to_string_lossy().contains(".partial-") {
            out.push(path);
        }
    }
    Ok(())
}

/// An archive unpacked and counted beside the media directory (same filesystem: installing
/// it is renames), before anything live is touched. Dropping it removes it.
#[derive(Debug)]
pub(super) struct Staged {
    dir: PathBuf,
    /// The media it holds.
    pub(super) media: MediaTally,
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Unpacks the archive beside `media_dir` and counts its media. Only plain files under
/// `media/` and the data directory's own files under `data/` are taken, written with private
/// modes; anything else (a link, a device, a path outside those, `..`) refuses the archive:
/// a symbolic link restored into the media directory would let the server serve any file
/// its user can read.
pub(super) fn stage(archive: &Path, media_dir: &Path) -> Result<Staged, BackupError> {
    let parent = media_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    super::create_private_dir(parent)?;
    let mut staged = Staged {
        dir: parent.join(format!(".pochi-restoring-{}", super::random_suffix())),
        media: MediaTally::default(),
    };
    super::create_private_dir(&staged.dir)?;
    unpack(archive, &staged.dir)?;
    let media = staged.dir.join("media");
    staged.media = if media.is_dir() {
        tally(&media)?
    } else {
        MediaTally::default()
    };
    Ok(staged)
}

fn unpack(archive: &Path, into: &Path) -> Result<(), BackupError> {
    let failed = |e: io::Error| BackupError::io("unpacking the media archive", archive)(e);
    let refused = |reason: String| BackupError::NotABackup {
        path: archive.to_owned(),
        reason,
    };
    let file =
        File::open(archive).map_err(BackupError::io("reading the media archive", archive))?;
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    for entry in tar.entries().map_err(failed)? {
        let mut entry = entry.map_err(failed)?;
        let path = entry.path().map_err(failed)?.into_owned();
        let parts: Vec<Component<'_>> = path.components().collect();
        let names: Option<Vec<&std::ffi::OsStr>> = parts
            .iter()
            .map(|c| match c {
                Component::Normal(name) => Some(*name),
                _ => None,
            })
            .collect();
        let kind = entry.header().entry_type();
        let allowed = match names.as_deref() {
            Some([top, ..]) if *top == "media" => true,
            Some([top, name]) if *top == "data" => {
                kind.is_file() && datadir::KEPT_FILES.iter().any(|kept| *name == *kept)
            }
            _ => false,
        };
        if !allowed {
            return Err(refused(format!(
                "its files archive holds {}, which no Pochi backup has",
                path.display()
            )));
        }
        let to = into.join(&path);
        if kind.is_dir() {
            super::create_private_dir(&to)?;
        } else if kind.is_file() {
            if let Some(parent) = to.parent() {
                super::create_private_dir(parent)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut out = options.open(&to).map_err(failed)?;
            io::copy(&mut entry, &mut out).map_err(failed)?;
        } else {
            return Err(refused(format!(
                "{} in its files archive is not a plain file (a link or a device?)",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Replaces the media directory's contents with the staged media, and puts the staged data
/// files into the data directory.
pub(super) fn install(
    staged: &Staged,
    media_dir: &Path,
    data_dir: &Path,
) -> Result<(), BackupError> {
    move_into(&staged.dir, media_dir, data_dir)
}

/// What the media directory holds (plain files, uploads in progress left out).
pub(super) fn tally(media_dir: &Path) -> Result<MediaTally, BackupError> {
    let mut files = Vec::new();
    walk(media_dir, Path::new(""), &mut files)
        .map_err(BackupError::io("reading the restored media", media_dir))?;
    let mut tally = MediaTally::default();
    for relative in files {
        let path = media_dir.join(relative);
        tally.files += 1;
        tally.bytes += std::fs::symlink_metadata(&path)
            .map_err(BackupError::io("reading the restored media", &path))?
            .len();
    }
    Ok(tally)
}

fn move_into(staging: &Path, media_dir: &Path, data_dir: &Path) -> Result<(), BackupError> {
    let failed = |path: &Path| BackupError::io("restoring the media directory", path);
    std::fs::create_dir_all(media_dir).map_err(failed(media_dir))?;
    for entry in std::fs::read_dir(media_dir).map_err(failed(media_dir))? {
        let path = entry.map_err(failed(media_dir))?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).map_err(failed(&path))?;
        } else {
            std::fs::remove_file(&path).map_err(failed(&path))?;
        }
    }
    let media = staging.join("media");
    if media.is_dir() {
        for entry in std::fs::read_dir(&media).map_err(failed(&media))? {
            let entry = entry.map_err(failed(&media))?;
            let to = media_dir.join(entry.file_name());
            std::fs::rename(entry.path(), &to).map_err(failed(&to))?;
        }
    }
    let data = staging.join("data");
    for name in datadir::KEPT_FILES {
        let from = data.join(name);
        if from.is_file() {
            super::create_private_dir(data_dir)?;
            let to = data_dir.join(name);
            std::fs::copy(&from, &to).map_err(failed(&to))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))
                    .map_err(failed(&to))?;
            }
        }
    }
    Ok(())
}
