import Foundation
import Testing

/// The built `roadside` binary: it sits next to the test bundle in the build directory.
let roadsideBinary: URL = {
  let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
  var dir = exe.deletingLastPathComponent()
  for _ in 0..<4 {
    let candidate = dir.appendingPathComponent("roadside")
    if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    dir = dir.deletingLastPathComponent()
  }
  fatalError("cannot find the roadside binary near \(exe.path); run 'swift build' first")
}()

struct Run {
  let status: Int32
  let stdout: String
  let stderr: String
}

/// Runs `roadside` with `arguments`, without any ROADSIDE_* variable from the caller.
func roadside(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil)
  throws -> Run
{
  let process = Process()
  process.executableURL = roadsideBinary
  process.arguments = arguments
  var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ROADSIDE_") }
  env.merge(environment) { $1 }
  process.environment = env
  if let directory { process.currentDirectoryURL = directory }
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  let errData = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return Run(
    status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
    stderr: String(decoding: errData, as: UTF8.self))
}

func newHome() -> URL {
  let dir = FileManager.default.temporaryDirectory
    .appendingPathComponent("roadside-cli-\(UUID().uuidString)", isDirectory: true)
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir
}

let now = "2026-11-22T09:30:00+08:00"

/// A home with a central store made from the default fixtures.
func initialisedHome() throws -> URL {
  let home = newHome()
  let run = try roadside(["central", "init", "--home", home.path, "--now", now])
  #expect(run.status == 0, "\(run.stderr)")
  return home
}

/// A licence number from the default fixtures with status A.
let normalLicence = "110114197811271869"
