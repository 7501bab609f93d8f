#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What went wrong reading one path under the root.
public enum HostReadError: Error, Hashable, Sendable, CustomStringConvertible {
    case missing(String)
    case permissionDenied(String)
    /// A symbolic link whose target lies outside the root: never followed.
    case escapesRoot(path: String, target: String)
    case linkLoop(String)
    case notRegularFile(String)
    case notDirectory(String)
    case notLink(String)
    case tooLarge(String, limit: Int)
    /// A link whose target does not exist.
    case danglingLink(String)
    case io(String, errno: Int32)

    public var description: String {
        switch self {
        case let .missing(p): "\(p) does not exist"
        case let .permissionDenied(p): "\(p) is not readable (permission denied)"
        case let .escapesRoot(p, t): "\(p) is a link to \(t), outside the root; not followed"
        case let .linkLoop(p): "\(p): too many levels of symbolic links"
        case let .notRegularFile(p): "\(p) is not a regular file"
        case let .notDirectory(p): "\(p) is not a directory"
        case let .notLink(p): "\(p) is not a symbolic link"
        case let .tooLarge(p, limit): "\(p) is larger than \(limit) bytes"
        case let .danglingLink(p): "\(p) is a link that leads nowhere"
        case let .io(p, e): "\(p): \(String(cString: strerror(e)))"
        }
    }

    public var isMissing: Bool {
        if case .missing = self { true } else { false }
    }
}

/// The one seam through which the tool reads a host: a directory standing for `/`.
///
/// Every path is relative to the root. Links are resolved here, component by
/// component, and a link that leads outside the root is refused rather than
/// followed, so a stranger's snapshot can never make the tool read this machine's
/// files. Only regular files are read (never FIFOs or device nodes), each with a
/// size limit. Nothing is ever written.
public struct HostRoot: Sendable, CustomStringConvertible {
    /// The root as given, without a trailing slash; "" for `/`.
    public let path: String

    public init(_ path: String = "/") {
        var p = path
        while p.count > 1, p.hasSuffix("/") { p.removeLast() }
        self.path = p == "/" ? "" : p
    }

    public var description: String { path.isEmpty ? "/" : path }

    /// Whether the root itself is a directory (a root given as a link to a directory counts: the user named it).
    public var isDirectory: Bool {
        var info = stat()
        return stat(absolute(""), &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
    public var isLiveSystem: Bool { path.isEmpty }

    /// The absolute path of a root-relative path.
    public func absolute(_ relative: String) -> String {
        relative.isEmpty ? (path.isEmpty ? "/" : path) : path + "/" + relative
    }

    static let maxLinkHops = 40

    /// A link's text resolved lexically against the canonical directory `base` holding it (an absolute text from the
    /// root, as in a chroot): root-relative, `""` for the root itself, `nil` when it climbs above the root. Only exact
    /// where `isKernelShapedLink` holds or the path is then walked: a `..` after a name skips what that name is.
    public static func lexicalJoin(_ base: String, _ link: String) -> String? {
        // Built in one byte buffer (a link per function per attribute: splitting and joining Strings had cost 7,000
        // instructions a call): each non-empty component of `base` as it is (`base` is canonical), then each of
        // `link`'s, `.` skipped and `..` dropping the last component kept.
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var result: [UInt8] = []
        result.reserveCapacity(base.utf8.count + link.utf8.count + 1)
        func apply(_ text: String.UTF8View, interpreting: Bool) -> Bool {
            var start = text.startIndex
            while start != text.endIndex {
                let end = text[start...].firstIndex(of: slash) ?? text.endIndex
                let component = text[start..<end]
                start = end == text.endIndex ? end : text.index(after: end)
                if component.isEmpty || (interpreting && component.elementsEqual(CollectionOfOne(dot))) { continue }
                if interpreting && component.elementsEqual([dot, dot]) {
                    guard !result.isEmpty else { return false }
                    result.removeSubrange((result.lastIndex(of: slash) ?? 0)...)
                    continue
                }
                if !result.isEmpty { result.append(slash) }
                result.append(contentsOf: component)
            }
            return true
        }
        if !link.hasPrefix("/") { _ = apply(base.utf8, interpreting: false) }
        guard apply(link.utf8, interpreting: true) else { return nil }
        return String(decoding: result, as: UTF8.self)
    }

    /// Whether a link's text has the shape the kernel writes (`../../../devices/pci0000:00/0000:00:02.0`): relative,
    /// some `..` first, then names only (no `.`, `..` or empty component after a name). Only such a link may be
    /// resolved lexically from a canonical directory; any other `..` must be walked (what it passes may be missing,
    /// a file or a loop).
    public static func isKernelShapedLink(_ text: String) -> Bool {
        guard !text.isEmpty, !text.hasPrefix("/"), !text.hasSuffix("/") else { return false }
        var names = false
        for component in text.fastSplit("/", omittingEmptySubsequences: false) {
            if component.isEmpty || component == "." { return false }
            if component == ".." {
                if names { return false }
            } else {
                names = true
            }
        }
        return names
    }

    /// Directories already found to be real (no link) during one scan: `resolve` skips the `lstat` of a prefix
    /// it has seen, which on a host with thousands of functions under the same few bridges saves most of them.
    public final class ResolvedDirectories {
        var known: Set<String> = []
        public init() {}
    }

    /// Resolves `relative` to a canonical root-relative path with no links left in it.
    /// - Parameters:
    ///   - followFinal: whether a link in the last component is followed too.
    ///   - seen: directories this scan already found to be real; found ones are added.
    public func resolve(_ relative: String, followFinal: Bool = true, seen: ResolvedDirectories? = nil) throws(HostReadError) -> String {
        var resolved: [Substring] = []
        // `resolved` joined by "/", kept beside it so that each candidate is one append, not a join of every prefix.
        var resolvedPath = ""
        var pending: [Substring] = relative.fastSplit("/").reversed()
        var hops = 0
        var lastLink: String?
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                guard !resolved.isEmpty else { throw .escapesRoot(path: relative, target: "..") }
                resolved.removeLast()
                resolvedPath = resolved.joined(separator: "/")
                continue
            }
            let candidate = resolved.isEmpty ? String(component) : resolvedPath + "/" + component
            if let seen, !pending.isEmpty, seen.known.contains(candidate) {
                lastLink = nil
                resolved.append(component)
                resolvedPath = candidate
                continue
            }
            var info = stat()
            if lstat(absolute(candidate), &info) != 0 {
                let code = errno
                if code == ENOENT, let link = lastLink { throw .danglingLink("\(link) (-> \(candidate))") }
                throw Self.error(code, candidate)
            }
            let isLink = (info.st_mode & S_IFMT) == S_IFLNK
            if isLink && (followFinal || !pending.isEmpty) {
                hops += 1
                guard hops <= Self.maxLinkHops else { throw .linkLoop("\(relative) (at \(candidate))") }
                lastLink = candidate
                let target = try readLinkText(candidate)
                if target.hasPrefix("/") {
                    // An absolute target means the same place under this root, as in a chroot.
                    resolved.removeAll()
                    resolvedPath = ""
                }
                // Escapes through ".." are caught when they pop past the root.
                let targetParts = target.fastSplit("/")
                var depth = resolved.count
                for part in targetParts {
                    if part == ".." { depth -= 1 } else if part != "." { depth += 1 }
                    if depth < 0 { throw .escapesRoot(path: candidate, target: target) }
                }
                pending.append(contentsOf: targetParts.reversed())
            } else {
                if !pending.isEmpty && (info.st_mode & S_IFMT) != S_IFDIR {
                    throw .notDirectory(candidate)
                }
                if (info.st_mode & S_IFMT) == S_IFDIR { seen?.known.insert(candidate) }
                lastLink = nil
                resolved.append(component)
                resolvedPath = candidate
            }
        }
        return resolvedPath
    }

    /// The text of a link, unresolved.
    public func readLinkText(_ relative: String) throws(HostReadError) -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(absolute(relative), &buffer, buffer.count - 1)
        if n < 0 {
            if errno == EINVAL { throw .notLink(relative) }
            throw Self.error(errno, relative)
        }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public enum Kind: Sendable, Equatable {
        case file, directory, link, other

        /// The kind of an `lstat` mode.
        init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFREG: self = .file
            case S_IFDIR: self = .directory
            case S_IFLNK: self = .link
            default: self = .other
            }
        }

        /// The kind a directory entry's `d_type` says; `nil` for `DT_UNKNOWN` (the file system does not say).
        init?(direntType: UInt8) {
            switch Int32(direntType) {
            case Int32(DT_REG): self = .file
            case Int32(DT_DIR): self = .directory
            case Int32(DT_LNK): self = .link
            case Int32(DT_UNKNOWN): return nil
            default: self = .other
            }
        }
    }

    /// What is at `relative` itself (a link is reported as a link).
    public func kind(_ relative: String) -> Kind? {
        var info = stat()
        guard lstat(absolute(relative), &info) == 0 else { return nil }
        return Kind(mode: info.st_mode)
    }

    /// Entry names of a directory (after resolving `relative`), sorted.
    public func list(_ relative: String, seen: ResolvedDirectories? = nil) throws(HostReadError) -> [String] {
        let canonical = try resolve(relative, seen: seen)
        guard let dir = opendir(absolute(canonical)) else { throw Self.error(errno, relative) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Entries of a canonical directory with their kinds (from `d_type`, `lstat` only where the
    /// file system does not say), sorted by name.
    public func entries(ofCanonical relative: String) throws(HostReadError) -> [(name: String, kind: Kind)] {
        guard let dir = opendir(absolute(relative)) else { throw Self.error(errno, relative) }
        defer { closedir(dir) }
        var result: [(name: String, kind: Kind)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let kind = Kind(direntType: entry.pointee.d_type) ?? self.kind(relative + "/" + name)
            if let kind { result.append((name, kind)) }
        }
        return result.sorted { $0.name < $1.name }
    }

    /// Opens a regular file for reading; the caller closes the descriptor.
    ///
    /// `relative` is resolved link by link first, unless `canonicalParent` says its directory
    /// already is canonical (it came from `resolve`): then only the last component can be a
    /// link, which `O_NOFOLLOW` catches, and the full resolution runs only for that case.
    /// On a host with thousands of functions this saves one `lstat` per path component per file.
    func openRegular(_ relative: String, canonicalParent: Bool = false) throws(HostReadError) -> (fd: Int32, size: Int, canonical: String) {
        var canonical = relative
        var fd: Int32 = -1
        if canonicalParent {
            fd = open(absolute(relative), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
            if fd < 0 && errno != ELOOP { throw Self.error(errno, relative) }
        }
        if fd < 0 {
            canonical = try resolve(relative)
            fd = open(absolute(canonical), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        }
        if fd < 0 { throw Self.error(errno, relative) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let e = errno
            close(fd)
            throw Self.error(e, relative)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .notRegularFile(relative)
        }
        return (fd, Int(info.st_size), canonical)
    }

    /// A canonical directory opened once for `*at` calls: reading its attributes then walks one path component
    /// each, not the whole path from the root. With a `listing` (`openDirectoryListing`), the kind of every entry is
    /// known from one `getdents` (`d_type`), so asking whether a file is there, or what it is, costs no system call.
    public final class Directory {
        public let path: String
        let fd: Int32
        /// Every entry and its kind (`nil`: not listed, ask the file system).
        public let listing: [String: Kind]?
        init(path: String, fd: Int32, listing: [String: Kind]? = nil) {
            self.path = path
            self.fd = fd
            self.listing = listing
        }
        deinit { close(fd) }
    }

    /// Opens `canonical` (a path `resolve` returned) as a `Directory`; `nil` when it is not a real directory.
    public func openDirectory(canonical: String) -> Directory? {
        // O_PATH (Linux's 0o10000000; the Glibc module does not export it): a handle for *at calls only.
        let fd = open(absolute(canonical), 0o10000000 | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        return fd >= 0 ? Directory(path: canonical, fd: fd) : nil
    }

    /// glibc's `getdents64` (2.30 and later; the Glibc module does not export it), found once.
    nonisolated(unsafe) static let getdents64: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int) -> Int)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "getdents64") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafeMutableRawPointer?, Int) -> Int).self)
    }()

    /// Opens `canonical` and lists it: one `open` and the `getdents64` calls of its entries (`lstat` only where the
    /// file system gives no `d_type`); `nil` when it is not a real, readable directory (or the C library has no
    /// `getdents64`: the caller then reads by path).
    public func openDirectoryListing(canonical: String) -> Directory? {
        guard let getdents = Self.getdents64 else { return nil }
        let fd = open(absolute(canonical), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var listing: [String: Kind] = [:]
        // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[].
        let size = 32768
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = getdents(fd, buffer, size)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { close(fd); return nil }
            if n == 0 { break }
            // Room for every entry this buffer holds (a record is at least 24 bytes), so the table never regrows
            // entry by entry (a function's directory has some 50; regrowing had cost a third of the listing).
            listing.reserveCapacity(listing.count + n / 24)
            var offset = 0
            while offset + 19 < n {
                let length = Int(buffer.loadUnaligned(fromByteOffset: offset + 16, as: UInt16.self))
                guard length > 19, offset + length <= n else { break }
                let type = buffer.load(fromByteOffset: offset + 18, as: UInt8.self)
                let bytes = UnsafeRawBufferPointer(start: buffer + offset + 19, count: length - 19)
                let name = String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
                offset += length
                if name == "." || name == ".." { continue }
                if let kind = Kind(direntType: type) {
                    listing[name] = kind
                } else {
                    var info = stat()
                    if fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 { listing[name] = Kind(mode: info.st_mode) }
                }
            }
        }
        return Directory(path: canonical, fd: fd, listing: listing)
    }

    /// What `name` inside `dir` is (a link is reported as a link); from the listing when `dir` has one. A name with
    /// a `/` is looked up in the file system.
    public func kind(_ name: String, in dir: Directory) -> Kind? {
        if let listing = dir.listing, !name.utf8.contains(UInt8(ascii: "/")) { return listing[name] }
        var info = stat()
        guard fstatat(dir.fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return Kind(mode: info.st_mode)
    }

    /// The text of the link `name` inside `dir`, unresolved.
    public func readLinkText(_ name: String, in dir: Directory) throws(HostReadError) -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlinkat(dir.fd, name, &buffer, buffer.count - 1)
        if n < 0 {
            if errno == EINVAL { throw .notLink(dir.path + "/" + name) }
            throw Self.error(errno, dir.path + "/" + name)
        }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `readTextIfPresent` for a regular file `name` inside `dir`: one `openat` of one component. A link there
    /// takes the full path resolution (so a link out of the root is still refused, a dangling one still named).
    ///
    /// Where the directory's listing says what `name` is, nothing more is asked: an absent name is `nil` with no
    /// system call, a regular file is opened and read without `fstat` (the read's length says where it ends), and
    /// anything else is refused or resolved as above. (`O_NONBLOCK` and `O_NOFOLLOW` keep a file swapped for a FIFO or
    /// a link after the listing from hanging or leading anywhere.)
    public func readTextIfPresent(_ name: String, in dir: Directory, limit: Int = 65536) throws(HostReadError) -> String? {
        // What the listing says it is: nothing there costs no call, a regular file needs no `fstat`.
        var listedRegular = false
        if let listing = dir.listing, !name.utf8.contains(UInt8(ascii: "/")) {
            switch listing[name] {
            case nil: return nil
            case .link?: return try readTextIfPresent(dir.path + "/" + name, canonicalParent: true)
            case .directory?, .other?: throw .notRegularFile(dir.path + "/" + name)
            case .file?: listedRegular = true
            }
        }
        let fd = openat(dir.fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            switch errno {
            case ENOENT: return nil
            case ELOOP: return try readTextIfPresent(dir.path + "/" + name, canonicalParent: true)
            default: throw Self.error(errno, dir.path + "/" + name)
            }
        }
        defer { close(fd) }
        if !listedRegular {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw Self.error(errno, dir.path + "/" + name) }
            guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notRegularFile(dir.path + "/" + name) }
        }
        switch Self.readAll(fd, limit: limit, shortReadEnds: true) {
        case let .success(bytes): return String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        case .failure(.tooLarge): throw .tooLarge(dir.path + "/" + name, limit: limit)
        case .failure(.errno(EISDIR)): throw .notRegularFile(dir.path + "/" + name)
        case let .failure(.errno(code)): throw Self.error(code, dir.path + "/" + name)
        }
    }

    /// The bytes of a regular file, at most `limit`.
    public func readBytes(_ relative: String, limit: Int = 65536, canonicalParent: Bool = false) throws(HostReadError) -> [UInt8] {
        try readBytesAndSize(relative, limit: limit, canonicalParent: canonicalParent).bytes
    }

    /// The bytes of a regular file, at most `limit`, and the size `fstat` reports for it (sysfs reports the
    /// attribute's full size even when the kernel lets this reader see fewer bytes).
    public func readBytesAndSize(_ relative: String, limit: Int = 65536, canonicalParent: Bool = false) throws(HostReadError) -> (bytes: [UInt8], size: Int) {
        let (fd, size, _) = try openRegular(relative, canonicalParent: canonicalParent)
        defer { close(fd) }
        switch Self.readAll(fd, limit: limit) {
        case let .success(bytes): return (bytes, size)
        case .failure(.tooLarge): throw .tooLarge(relative, limit: limit)
        case let .failure(.errno(code)): throw Self.error(code, relative)
        }
    }

    /// Why `readAll` stopped: the errno of a failed `read`, or more than the limit.
    public enum ReadAllFailure: Error, Sendable {
        case errno(Int32)
        case tooLarge
    }

    /// Reads a descriptor to its end (retrying on EINTR); fails past `limit` bytes.
    public static func readAll(_ fd: Int32, limit: Int, shortReadEnds: Bool = false) -> Result<[UInt8], ReadAllFailure> {
        var result: [UInt8] = []
        // One page a read: sysfs attributes are at most a page. The page is on the stack (not zeroed, not allocated).
        return withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 16) { chunk in
            while true {
                let n = read(fd, chunk.baseAddress, chunk.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    return .failure(.errno(errno))
                }
                if n == 0 { return .success(result) }
                result.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
                if result.count > limit { return .failure(.tooLarge) }
                // A read shorter than asked ends a regular file (sysfs returns an attribute in one read).
                if n < chunk.count && shortReadEnds { return .success(result) }
            }
        }
    }

    /// A text attribute with surrounding whitespace removed.
    public func readText(_ relative: String, limit: Int = 65536, canonicalParent: Bool = false) throws(HostReadError) -> String {
        String(decoding: try readBytes(relative, limit: limit, canonicalParent: canonicalParent), as: UTF8.self).trimmingWhitespace()
    }

    /// Like `readText`, but `nil` when nothing is there. A link that leads nowhere is there: an error.
    public func readTextIfPresent(_ relative: String, canonicalParent: Bool = false) throws(HostReadError) -> String? {
        do {
            return try readText(relative, canonicalParent: canonicalParent)
        } catch where error.isMissing {
            if kind(relative) == .link { throw .danglingLink(relative) }
            return nil
        }
    }

    public func exists(_ relative: String) -> Bool {
        kind(relative) != nil
    }

    static func error(_ code: Int32, _ path: String) -> HostReadError {
        switch code {
        case ENOENT: .missing(path)
        case EACCES, EPERM: .permissionDenied(path)
        case ELOOP: .linkLoop(path)
        case ENOTDIR: .notDirectory(path)
        default: .io(path, errno: code)
        }
    }
}
