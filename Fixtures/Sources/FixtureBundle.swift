public import Foundation

/// The default fixture set shipped with Roadside (the top-level `Fixtures/default` folder,
/// copied into this module's resource bundle so that `roadside demo` and
/// `roadside central init` work from any directory).
public enum DefaultFixtures {
  /// The folder holding the default set's files.
  public static var directory: URL {
    Bundle.module.resourceURL!.appendingPathComponent("default", isDirectory: true)
  }
}
