import ArgumentParser
import Foundation

@main
enum Entry {
  static func main() {
    do {
      var command = try Roadside.parseAsRoot()
      try command.run()
    } catch {
      Failure.exit(with: error)
    }
  }
}
