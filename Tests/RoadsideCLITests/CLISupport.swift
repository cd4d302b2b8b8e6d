import Foundation
import RoadsideSpawn
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
///
/// The enrolment codes a `central init` prints are kept beside its home
/// (`<home>.enrolments`, outside the home itself), and a `terminal init` without `--enrol`
/// is given the code printed for its `--id`: the tests use the codes as an operator would,
/// without every test repeating the step. `EnrolmentCLITests` passes `--enrol` itself.
func roadside(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil)
  throws -> Run
{
  var arguments = arguments
  let home = arguments.firstIndex(of: "--home").flatMap {
    $0 + 1 < arguments.count ? arguments[$0 + 1] : nil
  }
  if arguments.starts(with: ["terminal", "init"]), !arguments.contains("--enrol"),
    let home, let id = arguments.firstIndex(of: "--id").map({ arguments[$0 + 1] }),
    let code = enrolmentCode(home: home, terminal: id)
  {
    arguments += ["--enrol", code]
  }
  let run = try execute(arguments, environment: environment, in: directory)
  if arguments.starts(with: ["central", "init"]), run.status == 0, let home {
    try? run.stdout.write(toFile: home + ".enrolments", atomically: true, encoding: .utf8)
  }
  return run
}

/// A new enrolment code for `terminal` issued now by the system clock (`central terminal
/// reset`), for tests whose central runs on the real clock after an init at a fixed time.
func freshEnrolmentCode(home: URL, terminal: String) throws -> String {
  let run = try execute(
    ["central", "terminal", "reset", terminal, "--home", home.path], environment: [:], in: nil)
  #expect(run.status == 0, "\(run.stderr)")
  return run.stdout.split(separator: "\n").first { $0.hasPrefix("  \(terminal)  ") }
    .map { String($0.split(separator: " ")[1]) } ?? ""
}

/// The enrolment code `central init` printed for `terminal` in `home`, if any.
func enrolmentCode(home: String, terminal: String) -> String? {
  guard let text = try? String(contentsOfFile: home + ".enrolments", encoding: .utf8) else {
    return nil
  }
  for line in text.split(separator: "\n") {
    let words = line.split(separator: " ")
    if words.count >= 2, words[0] == terminal { return String(words[1]) }
  }
  return nil
}

func execute(_ arguments: [String], environment: [String: String], in directory: URL?)
  throws -> Run
{
  let process = ChildProcess()
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

/// Standard input of officer 010001's first login on a terminal: the initial PIN (the police
/// number), then the new PIN twice.
let firstLogin = "010001\n343334\n343334\n"
/// Standard input of a later login of officer 010001 on the same terminal.
let laterLogin = "343334\n"
