fn main() {
    println!("velos");
}
