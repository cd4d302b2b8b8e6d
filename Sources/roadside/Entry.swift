import ArgumentParser
import Foundation

@main
enum Entry {
  static func main() async {
    // Everything Roadside writes is private to its user (docs/security.md, "Files").
    umask(0o077)
    do {
      var command = try Roadside.parseAsRoot()
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      Failure.exit(with: error)
    }
  }
}
