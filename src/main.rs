fn main() {
    std::process::exit(rrsync::driver::main_entry());
}
