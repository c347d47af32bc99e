fn main() {
    std::process::exit(velos::cli::main());
}
