import CFileSystem
public import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Files and folders only their owner may read: stores hold private keys, PIN verifiers,
/// bank accounts and personal data, so they are created 0600 in folders created 0700,
/// whatever the process's umask (`docs/security.md`, "Files").
public enum PrivateFiles {
  /// Creates `path` and any missing parents as 0700 folders; existing folders are left as
  /// they are (a home the user made, `/tmp`).
  public static func createDirectory(atPath path: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else {
        throw CocoaError(
          .fileWriteFileExists, userInfo: [NSFilePathErrorKey: path])
      }
      return
    }
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty, parent != path { try createDirectory(atPath: parent) }
    if mkdir(path, 0o700) != 0, errno != EEXIST {
      throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
    }
    chmod(path, 0o700)
  }

  /// Creates an empty file at `path` with mode 0600 unless one exists; returns whether it
  /// made it.
  @discardableResult
  public static func createFile(atPath path: String) -> Bool {
    let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return false }
    fchmod(fd, 0o600)
    close(fd)
    return true
  }

  /// Writes `data` to `path` atomically (a temporary file renamed over it), mode 0600.
  ///
  /// With `durable` (the default) the data reaches the disk before the rename, so a power
  /// cut leaves the old file or the new one. A bulk job that writes thousands of files
  /// passes `false` and calls ``synchronizeFileSystem(containing:)`` once at the end
  /// instead: one flush instead of one per file, with the same guarantee once it returns.
  public static func write(_ data: Data, toPath path: String, durable: Bool = true) throws {
    let temporary = path + ".tmp-\(getpid())"
    unlink(temporary)
    let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary])
    }
    var written = 0
    let complete = data.withUnsafeBytes { bytes -> Bool in
      while written < bytes.count {
        let count = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
        if count < 0, errno == EINTR { continue }
        guard count > 0 else { return false }
        written += count
      }
      return true
    }
    let flushed = complete && fchmod(fd, 0o600) == 0 && (!durable || fsync(fd) == 0)
    let closed = close(fd) == 0
    guard flushed, closed, rename(temporary, path) == 0 else {
      unlink(temporary)
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
  }

  /// Flushes the file at `path` to its disk (`fsync`).
  public static func synchronize(path: String) throws {
    try flush(path) { fsync($0) }
  }

  /// Flushes everything written to the file system holding `path` (`syncfs`): what makes
  /// the files of a bulk job (``write(_:toPath:durable:)`` with `durable: false`) durable.
  public static func synchronizeFileSystem(containing path: String) throws {
    try flush(path) { cfilesystem_syncfs($0) }
  }

  /// Opens `path` read-only and runs `call` (0 or -1) on its descriptor.
  private static func flush(_ path: String, _ call: (Int32) -> Int32) throws {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }
    defer { close(fd) }
    guard call(fd) == 0 else {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
  }
}
