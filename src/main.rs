fn main() {
    std::process::exit(rrsync::app::main_entry());
}
