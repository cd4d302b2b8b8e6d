import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Exclusive claims on names between processes (and between connections of one process),
/// for a store with no lock of its own to offer across a long call: one byte of a lock
/// file per name, locked with an open-file-description lock (`F_OFD_SETLK`), which the
/// kernel releases when the file is closed or its process ends, even by SIGKILL.
///
/// Two names may share a byte (a 40-bit hash): then one of them waits for the other's next
/// run, never the other way round, and nothing is claimed twice.
public final class ClaimFile {
  public let path: String
  let fd: Int32

  /// Opens (creating, 0600) the lock file at `path`.
  public init(path: String) throws {
    self.path = path
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      throw CocoaError(
        .fileWriteNoPermission,
        userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: "cannot open \(path)"])
    }
    self.fd = fd
  }

  deinit { close(fd) }

  /// Claims `name`: a release closure, or nil when another holder has it.
  public func tryClaim(_ name: String) -> (() -> Void)? {
    let offset = off_t(ClaimFile.hash(name) & 0xFF_FFFF_FFFF)
    guard lock(F_WRLCK, at: offset) else { return nil }
    return { [self] in _ = self.lock(F_UNLCK, at: offset) }
  }

  func lock(_ type: Int32, at offset: off_t) -> Bool {
    var request = flock()
    request.l_type = Int16(type)
    request.l_whence = Int16(SEEK_SET)
    request.l_start = offset
    request.l_len = 1
    request.l_pid = 0
    #if os(Linux)
      let command: Int32 = 37  // F_OFD_SETLK (Linux 3.15)
    #else
      let command = F_SETLK
    #endif
    return withUnsafeMutablePointer(to: &request) { fcntl(fd, command, $0) } == 0
  }

  /// FNV-1a, 64 bits: the same on every machine and run.
  static func hash(_ name: String) -> UInt64 {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in name.utf8 {
      value ^= UInt64(byte)
      value &*= 0x100_0000_01b3
    }
    return value
  }
}
