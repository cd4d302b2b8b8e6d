import ArgumentParser
import Foundation
import RoadsideBank
import RoadsideCentral
import RoadsideCentralServer
import RoadsideCredentials
import RoadsideDomain
import RoadsideFixtures
import RoadsideHolder
import RoadsideTerminal

/// The main job on embedded defaults: a central store from the default fixtures in a
/// temporary home, what it holds, and one licence as the recorder shows it.
struct Demo: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the demo on the embedded defaults in a temporary home.")

  @OptionGroup var global: GlobalOptions
  @Flag(help: "Keep the temporary home and print its path.") var keep = false

  func run() async throws {
    let clock = try global.clock()
    let home: URL
    if global.home != nil {
      home = global.homeDirectory
    } else {
      home = FileManager.default.temporaryDirectory
        .appendingPathComponent("roadside-demo-\(UUID().uuidString)", isDirectory: true)
    }
    let layout = HomeLayout(home: home)
    defer {
      if !keep && global.home == nil { try? FileManager.default.removeItem(at: home) }
    }
    print("== Roadside demo — \(clock.now())")
    print("Loading the default fixtures into a new central store in \(home.path)")
    let fixtures = try FixtureLoader().load(directory: DefaultFixtures.directory)
    let service = try CentralService.initialise(
      path: layout.centralStore.path, fixtures: fixtures, source: "default", clock: clock,
      issuerKeySeed: systemRandomBytes(32))
    let phones = try HolderFixtures.provision(central: service, home: home, seed: 2026)
    let summary = try service.summary()
    printSummary(summary)
    print(
      field(
        "E-licences",
        "\(phones.issued) issued, \(phones.superseded) superseded, \(phones.pending) under review"))

    print("")
    print("== Licences by status")
    for (code, count) in summary.counts.byStatus.sorted(by: { $0.key < $1.key }) {
      let status = (try? LicenceStatus(code: code))
      print(field(code, "\(count)  \(status?.chinese ?? "") (\(status?.english ?? ""))"))
    }

    // A licence worth looking at: normal, with points, a vehicle and a bank mandate.
    let candidates = try service.licences(LicenceFilter(status: .normal, withMandate: true))
    var chosen: LicenceDossier?
    for summary in candidates where summary.points > 0 {
      let dossier = try service.dossier(summary.number)
      if !dossier.vehicles.isEmpty {
        chosen = dossier
        break
      }
    }
    if chosen == nil, let first = candidates.first { chosen = try service.dossier(first.number) }
    if let dossier = chosen {
      print("")
      print("== Lookup: what the officer's recorder shows")
      describe(dossier).forEach { print($0) }
      let table = PermittedClassTable.current
      if let vehicle = dossier.vehicles.first {
        let permitted = table.permits(dossier.licence.classes, toDrive: vehicle.vehicleClass)
        print(
          field(
            "Class check",
            "\(vehicle.plate) needs \(vehicle.vehicleClass.rawValue): \(permitted ? "permitted" : "NOT permitted") by \(dossier.licence.classes.code) (\(table.version))"
          ))
      }
    }

    // A terminal of the fleet: registered, synced, an officer logged in, the same licence
    // looked up offline from its cache.
    if let dossier = chosen {
      print("")
      print("== Terminal T-BJ-0001: register, pull, log in, look up offline")
      let transport = InProcessTransport(
        endpoint: try CentralEndpoint(path: layout.centralStore.path, clock: clock))
      let terminal = try await Terminal.initialise(
        path: layout.terminalStore("T-BJ-0001").path, terminal: "T-BJ-0001", centralName: "local",
        transport: transport, keySeed: systemRandomBytes(32), clock: clock,
        identifiers: SystemIdentifiers())
      let pulled = try await terminal.pull(transport: transport)
      print(field("Pulled", "\(pulled.changes) changes in \(pulled.batches) batch(es)"))
      try terminal.login(officer: "010001", pin: "010001")
      print(field("Officer", "010001 logged in (PIN checked offline against the synced hash)"))
      describe(try terminal.lookup(dossier.licence.number)).forEach { print($0) }

      // The roadside check: the driver's phone shows its code, the terminal verifies it
      // offline for the vehicle stopped.
      print("")
      print("== Roadside check: the driver shows the e-licence, the terminal verifies it offline")
      if var phone = try HolderPhone.load(home: home, licence: dossier.licence.number) {
        try phone.refresh(from: service, salt: { systemRandomBytes(12) })
        if let code = try phone.present(
          at: clock.now(), disclose: ClaimName.allCases, presentationID: systemRandomBytes(12),
          nonce: nil)
        {
          print(field("Phone shows", "\(code.prefix(48))… (\(code.utf8.count) bytes)"))
          let vehicle = dossier.vehicles.first?.vehicleClass
          let report = try terminal.verify(code, vehicle: vehicle, nonce: nil)
          print(field("Verdict", report.verdict.sentence))
          let again = try terminal.verify(code, vehicle: vehicle, nonce: nil)
          print(field("Shown again", again.verdict.sentence))
        }
      } else {
        print(
          field(
            "Phone", "this driver has no e-licence yet: the check falls back to the paper licence"))
      }

      // The same driver ran a red light without a seat belt: two decisions on the spot,
      // served together, pushed with the rest, and the fines deducted through the mandate.
      print("")
      print("== Penalty: a stop, decisions on the spot, sync, bank deduction, reconciliation")
      let plate = dossier.vehicles.first.map { try? Plate($0.plate.value) } ?? nil
      let stop = try terminal.recordStop(
        licence: dossier.licence.number, plate: plate ?? (try Plate("京A12345")),
        vehicle: dossier.vehicles.first?.vehicleClass ?? dossier.licence.classes[0],
        offences: [("0601", nil), ("0111", nil)], place: "北京市东城区长安街建国门",
        locationCode: "110101-0001", note: nil, refusedToSign: false)
      for document in stop.documents {
        print(
          field(
            document.kind == "decision" ? "Decision" : "Notice",
            "\(document.number) \(document.charge.offence) \(document.penalty)"))
      }
      print(
        field(
          "Points",
          "\(stop.pointsBefore) → \(stop.pointsAfter) (provisional until central applies them)"))
      let pushed = try await terminal.push(transport: transport)
      print(
        field(
          "Pushed",
          "\(pushed.accepted) records (audit entries, the check, the decisions) accepted by central"
        ))
      try createBank(path: layout.bankStore.path, mandates: fixtures.mandates)
      let bank = try BankEndpoint(path: layout.bankStore.path)
      let run = try await service.runDeductions(bank: bank)
      print(
        field(
          "Bank",
          "\(run.settled.count) deduction(s) settled, keyed by decision number (\(run.failed.count) failed)"
        ))
      let reconciliation = try await service.reconcile(on: clock.now().chinaDate, bank: bank)
      print(
        field(
          "Reconcile",
          reconciliation.differences.isEmpty
            ? "central and the bank agree (\(reconciliation.bankDeductions) deductions today)"
            : "\(reconciliation.differences.count) difference(s)"))
    }

    print("")
    print("== Latest change-log entries (what terminals pull)")
    let latest = try service.latestSequence()
    let changes = try service.changes(after: max(0, latest - 5), limit: 5)
    printTable(
      ["SEQ", "ENTITY", "KEY", "ACTION"],
      changes.map { [String($0.seq), $0.entity.rawValue, $0.key, $0.action] })
    print("")
    if keep || global.home != nil {
      print("State kept in \(home.path); try: roadside central licence list --home \(home.path)")
    } else {
      print("Temporary home removed. Run with --keep to explore it with the other commands.")
    }
  }
}
