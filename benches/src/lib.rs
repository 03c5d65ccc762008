//! Pochi's benchmarks; the code is in `benches/`. Run them with
//! `cargo bench -p pochi-benches` (for example `--bench stores`).
