import ArgumentParser
import Foundation
import RoadsideCentral
import RoadsideCredentials
import RoadsideDomain
import RoadsideHolder

struct Holder: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "The holder's simulated phone: apply for an e-licence and show it.",
    subcommands: [Apply.self, Show.self])

  struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Apply for an e-licence from the holder's phone (a key pair is made on the phone).",
      discussion: "The review completes one working day later (weekends and holidays do not count)."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The licence number.") var number: String
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let application = try applyForELicence(try licenceNumber(number), global: global)
      if json { return try printJSON(application) }
      print(
        "Applied for an e-licence for \(number); the review completes at \(application.readyAt)")
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the phone's screen and the e-licence code it displays now.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The licence number.") var number: String
    @Option(help: "The terminal's challenge, to sign into the code.") var nonce: String?
    @Option(
      help: ArgumentHelp(
        "Claims to disclose, comma-separated (no nm sx bd cl vt vf vu fi ad); default all.",
        valueName: "claims"))
    var disclose: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let number = try licenceNumber(number)
      let claims: [ClaimName]
      if let disclose {
        claims = try disclose.split(separator: ",").map { text in
          guard let claim = ClaimName(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
            throw CLIError(
              .usage,
              "unknown claim \"\(text)\"; claims are \(ClaimName.allCases.map(\.rawValue).joined(separator: " "))"
            )
          }
          return claim
        }
      } else {
        claims = ClaimName.allCases
      }
      let central = try openCentral(global)
      let holder = HolderService(
        home: global.homeDirectory, central: central, bytes: systemRandomBytes)
      let now = try global.clock().now()
      guard let (phone, code) = try holder.present(number, at: now, disclose: claims, nonce: nonce)
      else {
        throw CLIError(
          .notFound,
          "no phone for licence \(number.masked) in this home; run 'roadside holder apply \(number)' first"
        )
      }
      let screen = try holder.screen(phone, at: now, code: code)
      if json { return try printJSON(screen) }
      print("┌ 电子驾驶证 · \(screen.colour == "black" ? "正常 (black)" : "异常 (RED)")")
      print(field("Name", screen.name))
      print(field("Licence", screen.licence))
      print(field("Classes", screen.classes))
      print(field("Validity", screen.validity))
      print(field("Status", screen.status))
      print(field("Points", "\(screen.points)"))
      print(field("Time", screen.time.description))
      if screen.reapply {
        print(field("E-licence", "superseded: re-apply ('roadside holder apply')"))
      }
      if let code = screen.code {
        print(code)
      } else {
        let pending = try central.applications(number).first
        print(
          field(
            "E-licence",
            pending.map {
              "\($0.state)\($0.reason.map { ": \($0)" } ?? "") (review completes \($0.readyAt))"
            } ?? "none"))
      }
    }
  }
}
