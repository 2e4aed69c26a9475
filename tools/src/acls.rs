//! `smbd-tools acl get|set`: an admin's `icacls` on the server's own disk. Reads and writes the
//! security descriptor the server stores beside a file in the share folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use acl::SecurityDescriptor;
use vfs::{OpenOptions, Vfs};

use crate::cli::AclCommand;
use crate::error::ToolError;

/// Name of the stored descriptor in the backend's metadata (as the server names it).
const SD_META: &str = "security.sd";

/// Runs `acl get` or `acl set`.
pub fn run(cmd: &AclCommand, out: &mut dyn Write) -> Result<i32, ToolError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ToolError::io("runtime", e))?;
    match cmd {
        AclCommand::Get(a) => rt.block_on(get(&a.path, a.domain.as_ref(), out)),
        AclCommand::Set(a) => rt.block_on(set(&a.path, &a.sddl, a.domain.as_ref(), out)),
    }
}

/// Opens `path` through the POSIX backend rooted at its parent (or at itself for a folder).
async fn open(path: &Path) -> Result<vfs::FileRef, ToolError> {
    let abs = std::fs::canonicalize(path).map_err(|e| ToolError::io(path, e))?;
    let (root, name): (PathBuf, String) = if abs.is_dir() {
        (abs.clone(), String::new())
    } else {
        let parent = abs
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let name = abs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (parent, name)
    };
    let fs = vfs::posix::PosixFs::new(root).map_err(|e| ToolError::io(path, e))?;
    let opened = fs
        .open(&name, &OpenOptions::read_existing())
        .await
        .map_err(|e| ToolError::Invalid(format!("{}: {e}", path.display())))?;
    Ok(opened.file)
}

async fn get(
    path: &Path,
    domain: Option<&acl::Sid>,
    out: &mut dyn Write,
) -> Result<i32, ToolError> {
    let file = open(path).await?;
    let io = |e| ToolError::io("stdout", e);
    let Some(bytes) = file
        .get_meta(SD_META)
        .await
        .map_err(|e| ToolError::Invalid(e.to_string()))?
    else {
        writeln!(
            out,
            "{}: no descriptor stored (the server derives one from the share root)",
            path.display()
        )
        .map_err(io)?;
        return Ok(0);
    };
    let sd = SecurityDescriptor::decode(&bytes)
        .map_err(|e| ToolError::Invalid(format!("stored descriptor: {e:?}")))?;
    let sddl = sd
        .to_sddl(domain)
        .map_err(|e| ToolError::Invalid(format!("{e:?}")))?;
    writeln!(out, "{sddl}").map_err(io)?;
    let show = |s: &Option<acl::Sid>| s.as_ref().map_or("-".to_string(), |s| s.to_string());
    writeln!(
        out,
        "owner: {}\ngroup: {}",
        show(&sd.owner),
        show(&sd.group)
    )
    .map_err(io)?;
    match &sd.dacl {
        None => writeln!(out, "DACL: none (everyone has full access)").map_err(io)?,
        Some(dacl) => {
            writeln!(
                out,
                "{:<8} {:<8} {:<12} principal",
                "type", "flags", "rights"
            )
            .map_err(io)?;
            for ace in &dacl.aces {
                let kind = match ace.kind.0 {
                    0 => "allow",
                    1 => "deny",
                    2 => "audit",
                    0x11 => "label",
                    _ => "other",
                };
                writeln!(
                    out,
                    "{kind:<8} 0x{:02x}     0x{:08x}   {}",
                    ace.flags, ace.mask, ace.sid
                )
                .map_err(io)?;
            }
        }
    }
    Ok(0)
}

async fn set(
    path: &Path,
    sddl: &str,
    domain: Option<&acl::Sid>,
    out: &mut dyn Write,
) -> Result<i32, ToolError> {
    let sd = SecurityDescriptor::from_sddl(sddl, domain)
        .map_err(|e| ToolError::Invalid(format!("SDDL: {e}")))?;
    let bytes = sd
        .encode()
        .map_err(|e| ToolError::Invalid(format!("{e:?}")))?;
    let file = open(path).await?;
    file.set_meta(SD_META, bytes)
        .await
        .map_err(|e| ToolError::Invalid(e.to_string()))?;
    writeln!(out, "descriptor of {} set", path.display())
        .map_err(|e| ToolError::io("stdout", e))?;
    Ok(0)
}
