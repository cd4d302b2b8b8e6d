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
  public static func write(_ data: Data, toPath path: String) throws {
    let temporary = path + ".tmp-\(getpid())"
    unlink(temporary)
    guard createFile(atPath: temporary) else {
      throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary])
    }
    do {
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
      try handle.write(contentsOf: data)
      try handle.synchronize()
      try handle.close()
      guard rename(temporary, path) == 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
      }
    } catch {
      unlink(temporary)
      throw error
    }
  }
}
