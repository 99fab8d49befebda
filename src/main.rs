//! The `kubetwin` binary: see [`kubetwin::cli`].

/// The global allocator: the simulation allocates many small objects, and sweeps run one
/// simulation per thread, where mimalloc's per-thread heaps avoid contention.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(kubetwin::cli::main());
}
