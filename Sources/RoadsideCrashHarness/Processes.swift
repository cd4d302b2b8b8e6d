public import Foundation
public import RoadsideSpawn

/// Runs the `roadside` at `binary` with `arguments` to its end, `input` on its standard
/// input and its standard error discarded: its exit status and what it printed.
public func runRoadside(
  _ binary: URL, _ arguments: [String], environment: [String: String], input: String? = nil
) throws -> (status: Int32, output: String) {
  let process = ChildProcess()
  process.executableURL = binary
  process.arguments = arguments
  process.environment = environment
  let out = Pipe()
  process.standardOutput = out
  process.standardError = FileHandle.nullDevice
  let stdin = Pipe()
  process.standardInput = stdin
  try process.run()
  if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
  try? stdin.fileHandleForWriting.close()
  let data = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A `central serve` process of the harness and the port it listens on.
public struct CentralNode {
  public let process: ChildProcess
  public let port: Int

  /// Starts `central serve` on `home` and `port` (0: a port the server picks) and waits
  /// until it says where it listens. A port a killed server may still hold is tried again,
  /// up to 50 times; then ``CrashHarnessError/Kind/serverUnavailable``.
  public static func start(
    _ binary: URL, home: URL, port: Int, environment: [String: String]
  ) throws -> CentralNode {
    for _ in 0..<50 {
      let process = ChildProcess()
      process.executableURL = binary
      process.arguments = ["central", "serve", "--home", home.path, "--port", "\(port)"]
      process.environment = environment
      let out = Pipe()
      process.standardOutput = out
      process.standardError = FileHandle.nullDevice
      try process.run()
      var text = ""
      let deadline = Date().addingTimeInterval(10)
      while !text.contains("Serving the central store"), process.isRunning, Date() < deadline {
        text += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
      }
      if let range = text.range(
        of: #"on https?://127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
        let bound = Int(text[range].split(separator: ":").last!)
      {
        return CentralNode(process: process, port: bound)
      }
      process.terminate()
      process.waitUntilExit()
      Thread.sleep(forTimeInterval: 0.2)  // the port may still be held by the killed server
    }
    throw CrashHarnessError(
      .serverUnavailable, "the central server did not start on port \(port)")
  }
}
