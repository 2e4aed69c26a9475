//! `smbd-tools generate`: shell completions and man pages of `smbd` and `smbd-tools`, rendered
//! from the clap definitions both programs parse with, for a package build to install.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{CompletionsArgs, GenerateCommand, ManArgs};
use crate::error::ToolError;

/// The man section of both programs: system administration tools and daemons.
const MAN_SECTION: &str = "8";

/// The programs, by name, with their definitions.
fn programs() -> [(&'static str, clap::Command); 2] {
    [
        ("smbd", smbd::cli::Cli::command()),
        ("smbd-tools", crate::cli::Cli::command()),
    ]
}

/// Runs `generate ...`; prints the files written.
pub fn run(cmd: &GenerateCommand, out: &mut dyn Write) -> Result<i32, ToolError> {
    let written = match cmd {
        GenerateCommand::Completions(CompletionsArgs { shell, out: None }) => {
            let mut script = Vec::new();
            let mut tools = crate::cli::Cli::command();
            clap_complete::generate(*shell, &mut tools, "smbd-tools", &mut script);
            out.write_all(&script)
                .map_err(|e| ToolError::io("stdout", e))?;
            return Ok(0);
        }
        GenerateCommand::Completions(CompletionsArgs {
            shell,
            out: Some(dir),
        }) => completions(*shell, dir)?,
        GenerateCommand::Man(ManArgs { out: dir }) => man_pages(dir)?,
    };
    for path in written {
        writeln!(out, "{}", path.display()).map_err(|e| ToolError::io("stdout", e))?;
    }
    Ok(0)
}

/// Writes the completions of both programs for `shell` into `dir`; returns the files.
pub fn completions(shell: Shell, dir: &Path) -> Result<Vec<PathBuf>, ToolError> {
    std::fs::create_dir_all(dir).map_err(|e| ToolError::io(dir, e))?;
    programs()
        .into_iter()
        .map(|(name, mut cmd)| {
            clap_complete::generate_to(shell, &mut cmd, name, dir)
                .map_err(|e| ToolError::io(dir, e))
        })
        .collect()
}

/// Writes the man pages into `dir`: `smbd.8`, `smbd-tools.8` and one page per visible
/// smbd-tools command (`smbd-tools-keytab-add.8`); returns the files.
pub fn man_pages(dir: &Path) -> Result<Vec<PathBuf>, ToolError> {
    std::fs::create_dir_all(dir).map_err(|e| ToolError::io(dir, e))?;
    let mut written = Vec::new();
    for (_, cmd) in programs() {
        let mut cmd = cmd.disable_help_subcommand(true);
        cmd.build();
        write_pages(&cmd, dir, &mut written)?;
    }
    Ok(written)
}

/// Writes the page of `cmd` (built, so subcommands know their full names) and of each of its
/// visible subcommands.
fn write_pages(
    cmd: &clap::Command,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<(), ToolError> {
    let page = clap_mangen::Man::new(cmd.clone()).section(MAN_SECTION);
    let path = page.generate_to(dir).map_err(|e| ToolError::io(dir, e))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}
