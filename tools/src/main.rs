//! `smbd-tools`: administration commands for the SMB server (see `smbd-tools help`).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdin = std::io::stdin();
    let code = tools::run(
        &args,
        &mut stdin.lock(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::exit(code);
}
