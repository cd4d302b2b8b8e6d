// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
  .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
  name: "Roadside",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "roadside", targets: ["roadside"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
  ],
  targets: [
    // The system SQLite library (libsqlite3), linked as it is installed on the machine.
    .systemLibrary(
      name: "CSQLite",
      path: "Sources/CSQLite",
      pkgConfig: "sqlite3",
      providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite3"])]
    ),
    // Our own thin SQLite wrapper: statements, typed binds, transactions, migrations.
    .target(
      name: "RoadsideStorage",
      dependencies: ["CSQLite", "CFileSystem"],
      swiftSettings: upcoming
    ),
    // A PostgreSQL connection (postgres-nio) behind the same SQL interface as SQLite, for
    // the central store of a deployment with several central nodes.
    .target(
      name: "RoadsidePostgres",
      dependencies: [
        "RoadsideStorage",
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming
    ),
    // Pure domain: values and rules. No I/O, no clock reads, no randomness of its own.
    .target(
      name: "RoadsideDomain",
      swiftSettings: upcoming
    ),
    // Credentials: PIN hashes now; e-licence issuing, presenting and verifying next.
    .target(
      name: "RoadsideCredentials",
      dependencies: [
        "RoadsideDomain",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "_CryptoExtras", package: "swift-crypto"),
      ],
      swiftSettings: upcoming
    ),
    // Fixture files: reading, validating and generating populations. The default set lives
    // in the top-level Fixtures/ folder and ships as this target's resource bundle.
    .target(
      name: "RoadsideFixtures",
      dependencies: ["RoadsideDomain", "RoadsideCredentials"],
      path: "Fixtures",
      exclude: ["README.md"],
      sources: ["Sources"],
      resources: [.copy("default")],
      swiftSettings: upcoming
    ),
    // The scenarios the binary ships (the demo's story), as resources of the library folder.
    .target(
      name: "RoadsideScenarioLibrary",
      path: "Scenarios",
      exclude: [
        "README.md", "bank", "checks", "conflicts", "drills", "fixtures", "penalties", "points",
      ],
      sources: ["Sources"],
      resources: [.copy("demo")],
      swiftSettings: upcoming
    ),
    // The central store: schema, the store interface and its SQLite and PostgreSQL
    // implementations, and the administrative service every change goes through.
    .target(
      name: "RoadsideCentral",
      dependencies: [
        "RoadsideDomain", "RoadsideStorage", "RoadsidePostgres", "RoadsideFixtures",
        "RoadsideCredentials",
        "RoadsideProtocol", "RoadsideBankProtocol", "RoadsideMutants",
      ],
      swiftSettings: upcoming
    ),
    // Deliberate bugs for `simulate --mutant`: names only; central and the terminal carry
    // the bug behind the name they are given, and nothing else ever sets one.
    .target(
      name: "RoadsideMutants",
      swiftSettings: upcoming
    ),
    // The sync wire protocol (v1, Codable), the transport interface and the audit chain.
    .target(
      name: "RoadsideProtocol",
      dependencies: [
        "RoadsideDomain",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: upcoming
    ),
    // The terminal's HTTP transport (AsyncHTTPClient).
    .target(
      name: "RoadsideSync",
      dependencies: [
        "RoadsideProtocol",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOFoundationCompat", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: upcoming
    ),
    // What both HTTP servers and their clients share: TLS from PEM files and clients that
    // trust a given CA (swift-nio-ssl, already linked by AsyncHTTPClient and Hummingbird),
    // and the request-head deadline.
    .target(
      name: "RoadsideServing",
      dependencies: [
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
      ],
      swiftSettings: upcoming
    ),
    // The central store served over HTTP (Hummingbird) and in-process: one endpoint type
    // that both wires call.
    .target(
      name: "RoadsideCentralServer",
      dependencies: [
        "RoadsideDomain", "RoadsideCentral", "RoadsideProtocol", "RoadsideServing",
        "RoadsidePostgres",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "HummingbirdTLS", package: "hummingbird"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming
    ),
    // The officer terminal: its offline cache, registration, pull, lookup and audit log.
    .target(
      name: "RoadsideTerminal",
      dependencies: [
        "RoadsideDomain", "RoadsideStorage", "RoadsideProtocol", "RoadsideCredentials",
        "RoadsideMutants",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: upcoming
    ),
    // The holder's simulated phone: its device key, its e-licence, its screen.
    .target(
      name: "RoadsideHolder",
      dependencies: [
        "RoadsideDomain", "RoadsideCredentials", "RoadsideCentral", "RoadsideStorage",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: upcoming
    ),
    // Benchmarks: each path measured beside a bare reference in the same run.
    .target(
      name: "RoadsideBench",
      dependencies: [
        "CSQLite", "RoadsideDomain", "RoadsideFixtures", "RoadsideCentral",
        "RoadsideCentralServer", "RoadsideProtocol", "RoadsideSync", "RoadsideTerminal",
        "RoadsideCredentials", "RoadsidePostgres", "RoadsideStorage",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming
    ),
    // What central and a bank say to each other: the deduction API's values and errors and the
    // client protocol. Central links this, never the simulated bank.
    .target(
      name: "RoadsideBankProtocol",
      dependencies: ["RoadsideDomain"],
      swiftSettings: upcoming
    ),
    // The simulated bank: accounts, mandates, idempotent deductions, injectable faults.
    .target(
      name: "RoadsideBank",
      dependencies: ["RoadsideDomain", "RoadsideStorage", "RoadsideBankProtocol"],
      swiftSettings: upcoming
    ),
    // The bank over HTTP: its server (Hummingbird) and the client central uses.
    .target(
      name: "RoadsideBankHTTP",
      dependencies: [
        "RoadsideBank", "RoadsideBankProtocol", "RoadsideDomain", "RoadsideServing",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "HummingbirdTLS", package: "hummingbird"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOFoundationCompat", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming
    ),
    // Scenario files (YAML), the deterministic world they build, the runner and drills.
    .target(
      name: "RoadsideScenario",
      dependencies: [
        "RoadsideDomain", "RoadsideCentral", "RoadsideCentralServer", "RoadsideTerminal",
        "RoadsideProtocol", "RoadsideCredentials", "RoadsideHolder", "RoadsideBank",
        "RoadsideBankProtocol",
        "RoadsideFixtures", "RoadsideStorage", "RoadsidePostgres", "RoadsideMutants",
        .product(name: "Yams", package: "Yams"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: upcoming
    ),
    // The e-licence code parser's fuzzing property and its fixed world; the seed corpus in
    // Fuzz/corpus/ is replayed by the ordinary tests.
    .target(
      name: "RoadsideFuzzing",
      dependencies: [
        "RoadsideCredentials", "RoadsideDomain",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: upcoming
    ),
    // Linux's syncfs, which Swift's Glibc module leaves out: one flush for a bulk job's files.
    .target(name: "CFileSystem", path: "Sources/CFileSystem"),
    // glibc's posix_spawn file actions that Swift's Glibc module leaves out (closefrom, chdir).
    .target(name: "CSpawn", path: "Sources/CSpawn"),
    // Child processes without Foundation's Process (ChildProcess.swift says why).
    .target(name: "RoadsideSpawn", dependencies: ["CSpawn"], swiftSettings: upcoming),
    // The crash harness: real processes of the roadside binary killed and restarted, the
    // invariants checked on their files.
    .target(
      name: "RoadsideCrashHarness",
      dependencies: [
        "RoadsideDomain", "RoadsideScenario", "RoadsideStorage", "RoadsidePostgres",
        "RoadsideSpawn",
      ],
      swiftSettings: upcoming
    ),
    .executableTarget(
      name: "roadside",
      dependencies: [
        "RoadsideDomain", "RoadsideStorage", "RoadsideFixtures", "RoadsideCentral",
        "RoadsideProtocol", "RoadsideSync", "RoadsideCentralServer", "RoadsideTerminal",
        "RoadsideCredentials", "RoadsideBench", "RoadsideHolder", "RoadsideBank",
        "RoadsideBankProtocol",
        "RoadsideBankHTTP", "RoadsideScenario", "RoadsideServing", "RoadsideCrashHarness",
        "RoadsideScenarioLibrary", "RoadsidePostgres", "RoadsideSpawn", "RoadsideMutants",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ],
      swiftSettings: upcoming
    ),
    .testTarget(
      name: "RoadsideDomainTests",
      dependencies: ["RoadsideDomain"],
      swiftSettings: upcoming
    ),
    .testTarget(
      name: "RoadsideCredentialsTests",
      dependencies: [
        "RoadsideCredentials", "RoadsideDomain", "RoadsideFixtures", "RoadsideFuzzing",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: upcoming
    ),
    .testTarget(
      name: "RoadsideStorageTests",
      dependencies: ["RoadsideStorage"],
      swiftSettings: upcoming
    ),
    .testTarget(
      name: "RoadsideCentralTests",
      dependencies: [
        "RoadsideCentral", "RoadsideFixtures", "RoadsideDomain", "RoadsideStorage", "RoadsideProtocol",
        "RoadsideHolder", "RoadsideCredentials",
        "RoadsidePostgres", .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ],
      swiftSettings: upcoming
    ),
    .testTarget(
      name: "RoadsideIntegrationTests",
      dependencies: [
        "RoadsideCentral", "RoadsideCentralServer", "RoadsideTerminal", "RoadsideSync",
        "RoadsideProtocol", "RoadsideBank", "RoadsideBankProtocol", "RoadsideBankHTTP",
        "RoadsideCredentials",
        "RoadsideFixtures", "RoadsideDomain", "RoadsideStorage", "RoadsideServing",
        "RoadsidePostgres", "RoadsideSpawn",
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOFoundationCompat", package: "swift-nio"),
      ],
      swiftSettings: upcoming
    ),
    .testTarget(
      name: "RoadsideCLITests",
      dependencies: [
        "roadside", "RoadsideStorage", "RoadsideTerminal", "RoadsideCentral", "RoadsideDomain",
        "RoadsideProtocol", "RoadsideCredentials", "RoadsideSpawn",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: upcoming
    ),
  ],
  swiftLanguageModes: [.v6]
)

package.targets.append(contentsOf: [
  .testTarget(
    name: "RoadsideProtocolTests",
    dependencies: ["RoadsideProtocol", "RoadsideDomain"],
    swiftSettings: upcoming
  ),
  .testTarget(
    name: "RoadsideBankTests",
    dependencies: ["RoadsideBank", "RoadsideBankProtocol", "RoadsideDomain"],
    swiftSettings: upcoming
  ),
  .testTarget(
    name: "RoadsideTerminalTests",
    dependencies: ["RoadsideTerminal", "RoadsideFixtures", "RoadsideDomain", "RoadsideProtocol"],
    swiftSettings: upcoming
  ),
])

package.targets.append(
  .testTarget(
    name: "RoadsideCrashHarnessTests",
    // The harness runs the built binary, so the tests need it built first.
    dependencies: [
      "RoadsideCrashHarness", "RoadsideCentral", "RoadsidePostgres", "RoadsideSpawn", "RoadsideStorage",
      "roadside",
    ],
    swiftSettings: upcoming
  ))

package.targets.append(
  .testTarget(
    name: "RoadsideSpawnTests",
    dependencies: ["RoadsideSpawn"],
    swiftSettings: upcoming
  ))

package.targets.append(
  .testTarget(
    name: "RoadsideScenarioTests",
    dependencies: ["RoadsideScenario", "RoadsideStorage", "RoadsidePostgres", "RoadsideMutants"],
    swiftSettings: upcoming
  ))

// The libFuzzer entry point exists only for fuzzing builds (README: Development): it has no
// `main` of its own (libFuzzer supplies it), so ordinary builds and tests leave it out.
if Context.environment["ROADSIDE_FUZZ"] == "1" {
  package.products.append(.executable(name: "roadside-fuzz", targets: ["roadside-fuzz"]))
  package.targets.append(
    .executableTarget(
      name: "roadside-fuzz",
      dependencies: ["RoadsideFuzzing"],
      swiftSettings: upcoming + [.unsafeFlags(["-parse-as-library"])]
    ))
}
