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
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
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
      dependencies: ["CSQLite"],
      swiftSettings: upcoming
    ),
    // Pure domain: values and rules. No I/O, no clock reads, no randomness of its own.
    .target(
      name: "RoadsideDomain",
      swiftSettings: upcoming
    ),
    // Fixture files: reading, validating and generating populations. The default set lives
    // in the top-level Fixtures/ folder and ships as this target's resource bundle.
    .target(
      name: "RoadsideFixtures",
      dependencies: ["RoadsideDomain"],
      path: "Fixtures",
      exclude: ["README.md"],
      sources: ["Sources"],
      resources: [.copy("default")],
      swiftSettings: upcoming
    ),
    // The central store: schema, the store interface and its SQLite implementation,
    // and the administrative service every change goes through.
    .target(
      name: "RoadsideCentral",
      dependencies: ["RoadsideDomain", "RoadsideStorage", "RoadsideFixtures"],
      swiftSettings: upcoming
    ),
    // The thin command-line front end.
    .executableTarget(
      name: "roadside",
      dependencies: [
        "RoadsideDomain", "RoadsideStorage", "RoadsideFixtures", "RoadsideCentral",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: upcoming
    ),
    .testTarget(
      name: "RoadsideDomainTests",
      dependencies: ["RoadsideDomain"],
      swiftSettings: upcoming
    ),
    .testTarget(
      name: "RoadsideStorageTests",
      dependencies: ["RoadsideStorage"],
      swiftSettings: upcoming
    ),
    .testTarget(
      name: "RoadsideCentralTests",
      dependencies: ["RoadsideCentral", "RoadsideFixtures", "RoadsideDomain", "RoadsideStorage"],
      swiftSettings: upcoming
    ),
    .testTarget(
      name: "RoadsideCLITests",
      dependencies: ["roadside", "RoadsideStorage"],
      swiftSettings: upcoming
    ),
  ],
  swiftLanguageModes: [.v6]
)
