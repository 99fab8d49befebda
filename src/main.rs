//! The `kubetwin` binary: see [`kubetwin::cli`].

fn main() {
    std::process::exit(kubetwin::cli::main());
}
