import ArgumentParser
import Foundation

@main
enum Entry {
  static func main() async {
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
