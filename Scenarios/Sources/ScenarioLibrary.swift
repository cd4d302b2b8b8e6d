import Foundation

/// Scenarios of the library that the binary ships (as this module's resources), so that they
/// run from any folder: today the demo's story.
public enum ScenarioLibrary {
  /// A shipped scenario is missing from the build's resources.
  public struct MissingResource: Error, Sendable, CustomStringConvertible {
    public let name: String
    public var description: String {
      "the scenario \(name) is missing from roadside's resources; rebuild roadside ('swift build')"
    }
  }

  /// The text of `Scenarios/demo/the-demo.yaml`.
  public static func demoStory() throws -> String {
    guard
      let url = Bundle.module.url(
        forResource: "the-demo", withExtension: "yaml", subdirectory: "demo")
    else { throw MissingResource(name: "demo/the-demo.yaml") }
    return try String(contentsOf: url, encoding: .utf8)
  }
}
