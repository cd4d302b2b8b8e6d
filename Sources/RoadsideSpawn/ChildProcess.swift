internal import CSpawn
public import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A child process started with `posix_spawn`, for the tests and the crash harness that run
/// the `roadside` binary: the members they use of Foundation's `Process`, with the same
/// meanings.
///
/// Why not Foundation's `Process`: on Linux its `run()` lists `/proc/self/fd` to find the
/// highest open descriptor and copies each directory entry's name as a fixed 256 bytes,
/// reading past the end of the directory buffer. In a process with many descriptors open
/// (a test run: servers, PostgreSQL connections, SQLite files) the read can cross into an
/// unmapped page and the whole process dies of SIGSEGV (swift-corelibs-foundation issue
/// 5472, in Swift 6.3.1; AddressSanitizer shows it as a heap-buffer-overflow in
/// `findMaximumOpenFromProcSelfFD`). Here the child closes every descriptor above 2 with
/// glibc's `closefrom` file action, so nothing lists the descriptor table.
///
/// Set the configuration (``executableURL``, ``arguments``, …) before ``run()``, from one
/// thread, as with `Process`. After that, ``isRunning``, ``waitUntilExit()``,
/// ``terminate()`` and the termination members may be used from any thread: the child is
/// reaped exactly once, under a lock.
public final class ChildProcess: @unchecked Sendable {
  /// The program to run.
  public var executableURL: URL?
  /// Its arguments, after the program's own path (which is `argv[0]`).
  public var arguments: [String]?
  /// Its whole environment; `nil` passes this process's on.
  public var environment: [String: String]?
  /// Its working directory; `nil` keeps this process's.
  public var currentDirectoryURL: URL?
  /// A `Pipe` (the child reads its read end), a `FileHandle`, or `nil` to share this
  /// process's standard input. `FileHandle.nullDevice` is `/dev/null`.
  public var standardInput: Any?
  /// A `Pipe` (the child writes its write end), a `FileHandle`, or `nil` to share this
  /// process's standard output.
  public var standardOutput: Any?
  /// As ``standardOutput``, for standard error.
  public var standardError: Any?

  private struct State {
    var pid: pid_t = 0
    /// The raw `waitpid` status, once the child has been reaped.
    var status: Int32?
  }
  private let state = Mutex(State())

  public init() {}

  /// The child's process ID, or 0 before ``run()``.
  public var processIdentifier: Int32 { state.withLock { $0.pid } }

  /// Starts the child. Throws ``SpawnError`` when it cannot be started (no such program, no
  /// permission, too many processes).
  public func run() throws {
    guard let executableURL else {
      throw SpawnError("No program was given to run: set executableURL before run().")
    }
    guard state.withLock({ $0.pid }) == 0 else {
      throw SpawnError("\(executableURL.path) was already started: a ChildProcess runs once.")
    }
    let path = executableURL.path
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }

    // Default dispositions and an empty mask, whatever this process ignores or blocks.
    var every = sigset_t()
    sigfillset(&every)
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigdefault(&attributes, &every)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    try redirect(standardInput, to: 0, reading: true, actions: &actions)
    try redirect(standardOutput, to: 1, reading: false, actions: &actions)
    try redirect(standardError, to: 2, reading: false, actions: &actions)
    try check(cspawn_file_actions_addclosefrom(&actions, 3), "close the inherited descriptors")
    if let directory = currentDirectoryURL {
      try check(cspawn_file_actions_addchdir(&actions, directory.path), "enter \(directory.path)")
    }

    let argv = [path] + (arguments ?? [])
    let envp = environment.map { $0.map { "\($0.key)=\($0.value)" } }
    var pid: pid_t = 0
    let rc = withCStrings(argv) { argv in
      if let envp {
        return withCStrings(envp) { posix_spawn(&pid, path, &actions, &attributes, argv, $0) }
      }
      return posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    }
    guard rc == 0 else {
      throw SpawnError("Could not start \(path): \(String(cString: strerror(rc))).")
    }
    state.withLock { $0.pid = pid }
    // The child has its own copies of its ends of the pipes. This process's copies are
    // closed, as `Process` does, so that a reader sees the end of the output when the child
    // exits.
    if let pipe = standardInput as? Pipe { try? pipe.fileHandleForReading.close() }
    if let pipe = standardOutput as? Pipe { try? pipe.fileHandleForWriting.close() }
    if let pipe = standardError as? Pipe { try? pipe.fileHandleForWriting.close() }
  }

  /// Whether the child has been started and has not yet exited.
  public var isRunning: Bool {
    processIdentifier != 0 && reap() == nil
  }

  /// Blocks until the child exits (at once if it has).
  public func waitUntilExit() {
    let pid = processIdentifier
    guard pid != 0 else { return }
    // Wait without reaping, so that only `reap()`, under the lock, ever reaps.
    var info = siginfo_t()
    while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1, errno == EINTR {}
    while reap() == nil {
      // Reaped by nobody yet although it has exited: cannot happen unless the wait above
      // failed for another reason; do not spin.
      usleep(1_000)
    }
  }

  /// Sends SIGTERM to a running child.
  public func terminate() {
    if isRunning { kill(processIdentifier, SIGTERM) }
  }

  /// How the child ended. Valid once it has exited.
  public var terminationReason: Process.TerminationReason {
    guard let status = reap() else {
      preconditionFailure("terminationReason was read before the child exited")
    }
    return status & 0x7f == 0 ? .exit : .uncaughtSignal
  }

  /// The exit code, or the number of the signal that ended the child. Valid once it has
  /// exited.
  public var terminationStatus: Int32 {
    guard let status = reap() else {
      preconditionFailure("terminationStatus was read before the child exited")
    }
    return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
  }

  /// The raw status of the exited child, reaping it if this is the first look.
  private func reap() -> Int32? {
    state.withLock { state in
      if let status = state.status { return status }
      guard state.pid != 0 else { return nil }
      var status: Int32 = 0
      guard waitpid(state.pid, &status, WNOHANG) == state.pid else { return nil }
      state.status = status
      return status
    }
  }

  private func redirect(
    _ stream: Any?, to target: Int32, reading: Bool,
    actions: inout posix_spawn_file_actions_t
  ) throws {
    let source: Int32
    switch stream {
    case nil: return
    case let pipe as Pipe:
      source =
        reading
        ? pipe.fileHandleForReading.fileDescriptor : pipe.fileHandleForWriting.fileDescriptor
    case let handle as FileHandle: source = handle.fileDescriptor
    default:
      throw SpawnError(
        "A standard stream must be a Pipe, a FileHandle or nil, not \(type(of: stream!)).")
    }
    if source < 0 {
      // `FileHandle.nullDevice` has no descriptor of its own.
      try check(
        posix_spawn_file_actions_addopen(
          &actions, target, "/dev/null", reading ? O_RDONLY : O_WRONLY, 0),
        "open /dev/null")
    } else {
      try check(posix_spawn_file_actions_adddup2(&actions, source, target), "redirect \(target)")
    }
  }

  private func check(_ rc: Int32, _ what: String) throws {
    guard rc == 0 else {
      throw SpawnError("Could not \(what) for the child: \(String(cString: strerror(rc))).")
    }
  }
}

/// Why a child process could not be started; the description is a full sentence.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}

/// Runs `body` with `strings` as a NULL-terminated array of C strings.
private func withCStrings<T>(
  _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> T
) -> T {
  let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
  defer { for pointer in pointers { free(pointer) } }
  return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
