import Foundation

/// Validates JSON documents against a draft 2020-12 JSON Schema with the real python3-jsonschema.
public enum JSONSchemaCheck {
    /// A python3 that can import jsonschema, or nil.
    public static var python: String? {
        for python in ["python3", "/usr/bin/python3"] {
            guard let path = python.hasPrefix("/") ? python : Command.which(python) else { continue }
            if let r = try? Command.run(path, ["-c", "import jsonschema"]), r.status == 0 { return path }
        }
        return nil
    }

    /// Checks the schema itself, then the document; prints at most five errors. Exit 0 when valid.
    public static func validate(python: String, schema: String, document: String) throws -> CommandResult {
        try Command.run(python, ["-c", """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
            jsonschema.Draft202012Validator.check_schema(schema)
            errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
            for e in errors[:5]: print(list(e.path), e.message)
            sys.exit(1 if errors else 0)
            """, schema, document])
    }
}
