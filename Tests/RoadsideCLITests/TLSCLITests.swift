import Foundation
import RoadsideSpawn
import Testing

/// `central serve --tls-cert --tls-key` and a terminal that trusts the certificate it was
/// given at `terminal init --ca`, end to end through the built binary.
@Suite struct TLSCLITests {
  /// A self-signed certificate for 127.0.0.1, made by the system's openssl.
  func selfSigned(in dir: URL, name: String) throws -> (certificate: String, key: String) {
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", "\(name).key", "-out", "\(name).pem", "-days", "2", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1",
    ]
    process.currentDirectoryURL = dir
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return (
      dir.appendingPathComponent("\(name).pem").path, dir.appendingPathComponent("\(name).key").path
    )
  }

  @Test func aTerminalEnrolsAndSyncsOverHTTPS() throws {
    let home = newHome()
    #expect(try roadside(["central", "init", "--home", home.path]).status == 0)
    let (certificate, key) = try selfSigned(in: home, name: "central")
    let (foreign, _) = try selfSigned(in: home, name: "foreign")
    let server = try ServerProcess(
      home: home, arguments: ["--tls-cert", certificate, "--tls-key", key])
    defer { server.stop() }
    #expect(server.url.hasPrefix("https://127.0.0.1:"))

    // Another certificate is not trusted: the terminal is not created.
    let code = try freshEnrolmentCode(home: home, terminal: "T-BJ-0001")
    let initialise = [
      "terminal", "init", "--id", "T-BJ-0001", "--central", server.url, "--enrol", code,
      "--home", home.path,
    ]
    let untrusted = try roadside(initialise + ["--ca", foreign])
    #expect(untrusted.status == 69, "\(untrusted.stderr)")
    let enrolled = try roadside(initialise + ["--ca", certificate])
    #expect(enrolled.status == 0, "\(enrolled.stderr)")
    let kept = home.appendingPathComponent("terminals/T-BJ-0001/central-ca.pem").path
    #expect(
      try FileManager.default.attributesOfItem(atPath: kept)[.posixPermissions] as? Int == 0o600)

    // Later syncs trust the kept certificate without being told again.
    let sync = try roadside(["sync", "--terminal", "T-BJ-0001", "--home", home.path])
    #expect(sync.status == 0, "\(sync.stderr)")
    #expect(sync.stdout.hasPrefix("Pushed 0 records"))
    try FileManager.default.removeItem(atPath: kept)
    let unkept = try roadside(["sync", "--terminal", "T-BJ-0001", "--home", home.path])
    #expect(unkept.status == 69)
  }

  @Test func serverTLSOptionsAreCheckedWordForWord() throws {
    let home = newHome()
    #expect(try roadside(["central", "init", "--home", home.path]).status == 0)
    let half = try roadside(["central", "serve", "--tls-cert", "a.pem", "--home", home.path])
    #expect(half.status == 64)
    #expect(
      half.stderr
        == "error: --tls-cert and --tls-key go together; give both or neither (see 'roadside help')\n"
    )
    let open = try roadside(["bank", "serve", "--host", "0.0.0.0", "--home", home.path])
    #expect(open.status == 64)
    #expect(
      open.stderr
        == "error: serving plain HTTP on 0.0.0.0 would carry personal data in clear; give --tls-cert and --tls-key, or --plain-http behind a proxy that terminates TLS (see 'roadside help')\n"
    )
    let missing = try roadside([
      "central", "serve", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key",
      "--home", home.path,
    ])
    #expect(missing.status == 65)
    #expect(
      missing.stderr
        == "error: cannot read the TLS certificate /nonexistent.pem; give the path of a PEM file\n")
    let badCA = try roadside([
      "terminal", "init", "--id", "T-BJ-0001", "--central", "https://127.0.0.1:1", "--enrol",
      "0000-0000-0000-0000", "--ca", "/nonexistent.pem", "--home", home.path,
    ])
    #expect(badCA.status == 65)
    #expect(
      badCA.stderr
        == "error: cannot read the TLS CA certificate /nonexistent.pem; give the path of a PEM file\n"
    )
  }
}
