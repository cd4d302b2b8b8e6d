import Foundation
import RoadsideSpawn
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `ChildProcess` against the system's own programs (`/bin/sh`, `/bin/ls`): what a child
/// gets (arguments, environment, directory, streams, descriptors) and how its end is seen.
@Suite struct ChildProcessTests {
  func shell(
    _ script: String, environment: [String: String]? = nil, directory: URL? = nil,
    input: String? = nil
  ) throws -> (status: Int32, reason: Process.TerminationReason, out: String, err: String) {
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", script, "sh", "one two", "three"]
    process.environment = environment
    process.currentDirectoryURL = directory
    let (out, err, stdin) = (Pipe(), Pipe(), Pipe())
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input == nil ? FileHandle.nullDevice : stdin
    try process.run()
    if let input {
      stdin.fileHandleForWriting.write(Data(input.utf8))
      try stdin.fileHandleForWriting.close()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(!process.isRunning)
    return (
      process.terminationStatus, process.terminationReason,
      String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self)
    )
  }

  @Test func argumentsStreamsAndExitStatusArriveAsGiven() throws {
    let run = try shell(#"printf '%s|' "$@"; echo oops >&2; exit 7"#)
    #expect(run.out == "one two|three|")
    #expect(run.err == "oops\n")
    #expect(run.status == 7)
    #expect(run.reason == .exit)
  }

  @Test func theChildGetsExactlyTheEnvironmentAndDirectoryGiven() throws {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("spawn-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let run = try shell(
      #"echo "$ROADSIDE_X"; pwd -P; env | grep -c HOME || true"#,
      environment: ["ROADSIDE_X": "x y", "PATH": "/usr/bin:/bin"], directory: directory)
    let real = directory.resolvingSymlinksInPath().path
    #expect(run.out == "x y\n\(real)\n0\n")
  }

  @Test func standardInputIsThePipeGiven() throws {
    let run = try shell("tr a-z A-Z", input: "roadside\n")
    #expect(run.out == "ROADSIDE\n")
    #expect(run.status == 0)
  }

  /// The reason for the type: no descriptor of this process reaches the child, however
  /// many are open, and nothing lists the descriptor table to close them.
  @Test func noDescriptorOfThisProcessReachesTheChild() throws {
    var opened: [Int32] = []
    defer { for fd in opened { close(fd) } }
    for _ in 0..<300 { opened.append(open("/dev/null", O_RDONLY)) }
    #expect(opened.allSatisfy { $0 >= 0 })
    // `ls` opens the directory it lists: 0, 1, 2 and that one.
    let run = try shell("ls /proc/self/fd | wc -l")
    #expect(run.out.trimmingCharacters(in: .whitespacesAndNewlines) == "4")
  }

  @Test func aKilledChildEndsByItsSignal() throws {
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: "/bin/sleep")
    process.arguments = ["30"]
    try process.run()
    #expect(process.isRunning)
    #expect(process.processIdentifier > 0)
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal)
    #expect(process.terminationStatus == SIGKILL)
    #expect(!process.isRunning)
  }

  @Test func terminateSendsSIGTERMAndTwoWaitersBothReturn() async throws {
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: "/bin/sleep")
    process.arguments = ["30"]
    try process.run()
    async let first: Void = Task.detached { process.waitUntilExit() }.value
    async let second: Void = Task.detached { process.waitUntilExit() }.value
    process.terminate()
    _ = await (first, second)
    #expect(process.terminationReason == .uncaughtSignal)
    #expect(process.terminationStatus == SIGTERM)
  }

  @Test func aMissingProgramIsAnErrorThatNamesIt() throws {
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: "/nonexistent/roadside")
    let error = #expect(throws: SpawnError.self) { try process.run() }
    #expect(
      error?.description == "Could not start /nonexistent/roadside: No such file or directory.")
    #expect(!process.isRunning)
  }
}
