fn main() {
    std::process::exit(robodev::run(std::env::args_os()));
}
