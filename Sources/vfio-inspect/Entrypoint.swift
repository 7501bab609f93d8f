import VFIOInspectCommands

@main
struct Entrypoint {
    static func main() {
        VFIOInspect.main()
    }
}
