//! `smbd-tools`: administration commands for the SMB server (see `smbd-tools --help`).

fn main() {
    let stdin = std::io::stdin();
    let code = tools::run(
        std::env::args_os().skip(1),
        &mut stdin.lock(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::exit(code);
}
