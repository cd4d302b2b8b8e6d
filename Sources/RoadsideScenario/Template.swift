public import Foundation
public import RoadsideDomain
import RoadsideFixtures
import RoadsideStorage

/// A world's home assembled once from the default fixtures, central on SQLite: the central
/// store, the holders' phones and the bank, before any terminal is enrolled. A simulation
/// of many seeds copies it into each seed's home instead of assembling the same files again
/// (about a fifth of a seed's work at 3 terminals × 8 hours).
///
/// What a copy shares with every other copy: the fixtures, the phones (whose seed is
/// ``WorldAssembly/phoneSeed`` in every home anyway) and the issuer key, which is drawn from
/// ``keySeed`` (as a world of seed `keySeed` would draw it) instead of from the run's seed. The key's value plays no part in any verdict,
/// conflict or invariant, so a seed's trace is the same with and without a template (the
/// tests compare them). Terminals, their keys, the workload and the faults still come from
/// the seed.
///
/// The folder is removed when the template goes away.
public final class WorldTemplate: Sendable {
  /// The seed the template's issuer key is drawn from.
  public static let keySeed: UInt64 = 2026

  /// The template's folder: `home` (what each copy starts as) and, for a generated world,
  /// `fixtures`.
  let root: URL
  var directory: URL { root.appendingPathComponent("home", isDirectory: true) }
  /// The generated fixtures, or nil for the shipped ones.
  let fixturesDirectory: URL?
  let fixtures: FixtureSet
  let start: Timestamp
  let numbersPerRange: Int
  /// The generated world, or nil for the shipped fixtures.
  public let population: WorldPopulation?

  /// Assembles the template in a new folder under `parent`, on the simulated clock at
  /// `start`: from the shipped fixtures, or from `population` generated first.
  public init(
    start: Timestamp, numbersPerRange: Int, parent: URL, population: WorldPopulation? = nil
  ) throws {
    let root = parent.appendingPathComponent(
      "roadside-template-\(UUID().uuidString)", isDirectory: true)
    self.root = root
    self.start = start
    self.numbersPerRange = numbersPerRange
    self.population = population
    let generated = population.map { _ in root.appendingPathComponent("fixtures") }
    fixturesDirectory = generated
    let directory = root.appendingPathComponent("home", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    do {
      if let population, let generated {
        _ = try population.generate(into: generated, on: start.chinaDate)
      }
      fixtures = try FixtureLoader().load(directory: generated ?? DefaultFixtures.directory)
      // The assembled services close their files when they go: nothing is left in a WAL.
      try ScenarioWorld.assemble(
        directory, fixtures: fixtures, seed: Self.keySeed, clock: SimulatedClock(start),
        numbersPerRange: numbersPerRange)
    } catch {
      try? FileManager.default.removeItem(at: root)
      throw error
    }
  }

  deinit { try? FileManager.default.removeItem(at: root) }

  /// Copies the template's files into `home`, which must not exist yet.
  func copy(to home: URL) throws {
    try FileManager.default.createDirectory(
      at: home.deletingLastPathComponent(), withIntermediateDirectories: true)
    do {
      try FileManager.default.copyItem(at: directory, to: home)
    } catch {
      // A copy cut short (a full /dev/shm) leaves nothing behind.
      try? FileManager.default.removeItem(at: home)
      throw error
    }
  }
}

/// Where a simulation keeps the files of each seed's world.
public enum SimulationFiles: String, Sendable, CaseIterable, Codable {
  /// In memory (``ScratchFolder/memory``: `/dev/shm` with 1 GiB free, else the temporary
  /// folder), each seed's home
  /// a copy of one ``WorldTemplate``. A simulated crash is the death of a process, not of the
  /// machine: what a transaction committed survives it whether or not it reached the disk,
  /// so nothing a simulation checks depends on `fsync`. Real durability (real processes
  /// killed with SIGKILL, real files, `synchronous=FULL`) is the crash harness's to check.
  case memory
  /// In the temporary folder, each seed's world assembled from the fixtures, every commit
  /// synced: the simulation as it ran before templates and memory, kept as the reference
  /// `bench simulate` measures against.
  case disk

  /// The folder a seed's home goes in.
  public var scratch: URL {
    switch self {
    case .memory: return ScratchFolder.memory
    case .disk: return FileManager.default.temporaryDirectory
    }
  }
}

/// A generated world: `licences` licences with their vehicles, mandates and decisions, and
/// a fleet of `terminals` terminals with two officers each (``FixtureGenerator``, seed 1).
public struct WorldPopulation: Sendable, Hashable, Codable {
  public let licences: Int
  public let terminals: Int

  public init(licences: Int, terminals: Int) {
    self.licences = licences
    self.terminals = terminals
  }

  /// Writes the fixture files into `directory`, dated `day`.
  func generate(into directory: URL, on day: LocalDate) throws -> FixtureGenerator.Summary {
    try FixtureGenerator(
      licenceCount: licences, seed: 1, referenceDate: day, terminalCount: terminals
    ).write(to: directory)
  }
}
