import Foundation

/// The fleet formats' real consumers (`Tests/FleetConsumers/consume.py`, run by the venv `Scripts/fleet-tools.sh`
/// makes: promtool, node_exporter, prometheus_client, ansible-core, kubectl, kubernetes-validate, PyYAML, Nova).
public enum FleetConsumers {
    /// The venv's python: `$VFIO_INSPECT_FLEET_TOOLS/python`, or `.build/fleet-venv/bin/python`.
    public static var python: String? {
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["VFIO_INSPECT_FLEET_TOOLS"] { candidates.append(dir + "/python") }
        let project = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(project.appendingPathComponent(".build/fleet-venv/bin/python").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var script: String {
        Fixtures.directory.deletingLastPathComponent().appendingPathComponent("FleetConsumers/consume.py").path
    }

    /// What the consumer of `kind` made of each file (`ok`, `error`, and what it read), and its exit status.
    public static func consume(_ kind: String, _ paths: [String]) throws -> (status: Int32, results: [String: [String: Any]], stderr: String) {
        guard let python else {
            throw CommandFailure(result: CommandResult(status: -1, stdout: "", stderr: "the fleet consumers are not installed: run Scripts/fleet-tools.sh (Scripts/test.sh does)"))
        }
        let r = try Command.run(python, [script, kind] + paths)
        let object = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: [String: Any]]
        guard let object else { throw CommandFailure(result: r) }
        return (r.status, object, r.stderr)
    }
}
